# expect: correct
# why: torch.nn.functional.mse_loss, and the value read before the update
import torch.nn.functional as F


def f(t, params):
    a, b, c = params.unbind()
    return a * t.pow(2) + b * t + c


def mse(preds, targets):
    return F.mse_loss(preds, targets)


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    value = loss.item()
    loss.backward()
    params.data = params.data - lr * params.grad
    params.grad = None
    return value
