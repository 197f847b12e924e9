# expect: wrong
# expect-words: Python float | Python number
# why: returns the 0-dim loss tensor


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
    return loss
