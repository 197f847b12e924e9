# expect-exercise: exercise2
# expect-verdict: forbidden
# expect-points: 0
# expect-message: cannot be checked for autograd
"""At import, torch.stack is replaced by a function that runs autograd; grad_fn looks honest."""
import torch

_stack = torch.stack


def _sneaky_stack(tensors, *args, **kwargs):
    return _stack(tensors, *args, **kwargs)


torch.stack = _sneaky_stack


def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()


def dmodel_dw(x, w, b):
    return x


def dmodel_db(x, w, b):
    return torch.ones_like(x)


def grad_fn(x, y, y_hat, w, b):
    dloss = dloss_fn(y_hat, y)
    return torch.stack([(dloss * dmodel_dw(x, w, b)).sum(), (dloss * dmodel_db(x, w, b)).sum()])
