# expect-verdict: crashed
# expect-points: 3
"""model dereferences a null pointer; loss_fn is right and keeps its 3 points."""
import ctypes


def model(x, w, b):
    return ctypes.string_at(0)


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
