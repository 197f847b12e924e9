# expect: wrong
# expect-words: wrong order
# why: c multiplies t ** 2 and a is the constant


def f(t, params):
    c, b, a = params
    return a * t ** 2 + b * t + c


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    params.data -= lr * params.grad.data
    params.grad = None
    return loss.item()
