# expect-points: 0
# expect-message: has shape (0, 1099511627776)
"""Tiny replies with huge sizes: an empty tensor of 2**40 columns (~100 bytes on
the wire) where the model's output belongs, and one of 64 dimensions where the
loss belongs. Diagnosing their shapes once built 2**40 numbers in the grader
(a grader error); each is the submission's wrong shape, at no cost to the grader."""
import torch


def model(x, w, b):
    return torch.empty(0, 2**40)


def loss_fn(y_hat, y):
    return torch.empty((0,) + (2,) * 62 + (1,))
