# expect-exercise: exercise2
# expect-verdict: forbidden
# expect-points: 4
# expect-message: torch.autograd.grad
"""grad_fn hands the work to a helper that reaches autograd through an aliased import."""
import torch as t
from torch import autograd as ag


def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()


def dmodel_dw(x, w, b):
    return x


def dmodel_db(x, w, b):
    return t.ones_like(x)


def _gradient(x, y, w, b):
    with t.set_grad_enabled(True):
        params = t.tensor([float(w), float(b)], requires_grad=True)
        loss = ((params[0] * x + params[1] - y) ** 2).mean()
        return ag.grad(loss, params)[0]


def grad_fn(x, y, y_hat, w, b):
    return _gradient(x, y, w, b)
