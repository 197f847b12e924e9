# expect: wrong
# expect-words: after the step
# why: the loss is measured again once params have moved
import torch


def f(t, params):
    a, b, c = params
    return a * t ** 2 + b * t + c


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    params.data -= lr * params.grad.data
    params.grad = None
    with torch.no_grad():
        return mse(f(t, params), y).item()
