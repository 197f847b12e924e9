# expect: correct
# why: the update with -= inside torch.no_grad(); float(loss)
import torch


def f(t, params):
    return params[0] * t ** 2 + params[1] * t + params[2]


def mse(preds, targets):
    return torch.mean((preds - targets) ** 2)


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    with torch.no_grad():
        params -= lr * params.grad
    params.grad = None
    return float(loss)
