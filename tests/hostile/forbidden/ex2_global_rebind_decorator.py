# expect-exercise: exercise2
# expect-verdict: forbidden
# expect-points: 0
# expect-message: global grad_fn
"""A decorator rebinds grad_fn with `global` to an autograd version; the grad_fn the source shows is honest."""
import torch


def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()


def dmodel_dw(x, w, b):
    return x


def dmodel_db(x, w, b):
    return torch.ones_like(x)


def grad_fn(x, y, y_hat, w, b):
    dloss = dloss_fn(y_hat, y)
    return torch.stack([(dloss * dmodel_dw(x, w, b)).sum(), (dloss * dmodel_db(x, w, b)).sum()])


def _installs(function):
    global grad_fn
    grad_fn = function
    return function


@_installs
def _by_autograd(x, y, y_hat, w, b):
    with torch.enable_grad():
        params = torch.tensor([float(w), float(b)], requires_grad=True)
        loss = ((params[0] * x + params[1] - y) ** 2).mean()
        return torch.autograd.grad(loss, params)[0]
