# expect-verdict: exited
# expect-points: 3
"""model raises SystemExit; loss_fn is right and keeps its 3 points."""
import sys


def model(x, w, b):
    sys.exit(0)


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
