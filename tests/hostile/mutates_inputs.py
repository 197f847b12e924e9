# expect-message: differs from the expected values
# expect-points: 0
"""Zeroes its inputs in place, hoping the reference is computed on them afterwards."""
import torch


def model(x, w, b):
    with torch.no_grad():
        x.zero_()
    return torch.zeros_like(x)


def loss_fn(y_hat, y):
    with torch.no_grad():
        y.copy_(y_hat)
    return (y_hat * 0).sum()
