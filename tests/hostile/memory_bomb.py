# expect-verdict: memory limit
# expect-points: 0
"""Touches 8 GiB, then would return the right answer: only a memory cap stops it."""
import torch

hoard = torch.ones(8 * 1024**3 // 4)


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
