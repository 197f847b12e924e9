# expect: wrong
# expect-words: leaves a gradient
# expect-words: piles up | adds to it
# why: params.grad is never reset: the next step would add to it


def f(t, params):
    a, b, c = params
    return a * t ** 2 + b * t + c


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    params.data -= lr * params.grad.data
    return loss.item()
