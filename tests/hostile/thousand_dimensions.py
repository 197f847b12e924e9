# expect-points: 0
# expect-verdict: sandbox error
# expect-message: a tensor of 1000 dimensions
"""An empty tensor of 1000 dimensions: torch can hold it but computes nothing on
it (every operation raises), so the grader refuses it where it reads the reply."""
import torch


def model(x, w, b):
    return torch.empty((0,) + (1,) * 999)


def loss_fn(y_hat, y):
    return torch.empty((0,) + (1,) * 999)
