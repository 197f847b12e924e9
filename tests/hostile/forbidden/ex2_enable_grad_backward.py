# expect-exercise: exercise2
# expect-verdict: forbidden
# expect-points: 4
# expect-message: torch.enable_grad
"""grad_fn switches autograd back on inside the grader's no_grad() and calls backward()."""
import torch


def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()


def dmodel_dw(x, w, b):
    return x


def dmodel_db(x, w, b):
    return torch.ones_like(x)


def grad_fn(x, y, y_hat, w, b):
    with torch.enable_grad():
        params = torch.tensor([float(w), float(b)], requires_grad=True)
        ((params[0] * x + params[1] - y) ** 2).mean().backward()
    return params.grad
