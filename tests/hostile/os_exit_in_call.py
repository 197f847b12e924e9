# expect-verdict: exited
# expect-points: 3
"""model ends the whole process; loss_fn is right and keeps its 3 points."""
import os


def model(x, w, b):
    os._exit(0)


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
