# expect-exercise: exercise2
# expect-verdict: forbidden
# expect-points: 4
# expect-message: cannot be checked for autograd
"""grad_fn builds the name of torch.autograd at run time, so no constant string shows it."""
import torch


def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()


def dmodel_dw(x, w, b):
    return x


def dmodel_db(x, w, b):
    return torch.ones_like(x)


def grad_fn(x, y, y_hat, w, b):
    engine = getattr(torch, "auto" + "grad")
    switch = getattr(torch, "enable" + "_grad")
    with switch():
        params = torch.tensor([float(w), float(b)], requires_grad=True)
        loss = ((params[0] * x + params[1] - y) ** 2).mean()
        return engine.grad(loss, params)[0]
