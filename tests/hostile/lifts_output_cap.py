# expect-note: output truncated
# expect-points: 10
"""Correct, but first lifts the room's own output cap (an object it can reach) and prints 30 MB."""
import sys

sys.stdout.limit = sys.stderr.limit = 1 << 40
sys.stdout.write("x" * (30 << 20))


def model(x, w, b):
    print("y" * (100 << 10))  # more than the whole cap after every call, too
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
