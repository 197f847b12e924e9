# expect-note: output truncated
# expect-points: 10
"""Correct, but prints 300 MB first."""
import sys

chunk = "x" * (1 << 20)
for _ in range(300):
    sys.stdout.write(chunk)


def model(x, w, b):
    print("model called", flush=True)
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
