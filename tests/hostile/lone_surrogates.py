# expect-message: raised ValueError: bad
# expect-points: 3
"""Prints, and raises with, lone surrogates: text JSON carries but no UTF-8 file can hold
(writing the report once crashed the grader)."""
import sys

sys.stdout.write("lone \ud800 surrogate\n")


def model(x, w, b):
    raise ValueError("bad \udc80 value")


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
