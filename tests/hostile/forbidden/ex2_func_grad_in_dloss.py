# expect-exercise: exercise2
# expect-verdict: forbidden
# expect-points: 2
# expect-message: torch.func.grad
"""dloss_fn asks torch.func for the derivative; grad_fn, which calls dloss_fn, loses its points too."""
import torch
from torch.func import grad


def dloss_fn(y_hat, y):
    with torch.enable_grad():
        return grad(lambda p: ((p - y) ** 2).mean())(y_hat)


def dmodel_dw(x, w, b):
    return x


def dmodel_db(x, w, b):
    return torch.ones_like(x)


def grad_fn(x, y, y_hat, w, b):
    dloss = dloss_fn(y_hat, y)
    return torch.stack([(dloss * x).sum(), dloss.sum()])
