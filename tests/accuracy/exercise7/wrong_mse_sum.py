# expect: wrong
# expect-words: times too large
# why: mse adds the squared differences up


def f(t, params):
    a, b, c = params
    return a * t ** 2 + b * t + c


def mse(preds, targets):
    return ((preds - targets) ** 2).sum()


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    params.data -= lr * params.grad.data
    params.grad = None
    return loss.item()
