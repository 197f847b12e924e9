# expect: wrong
# expect-words: .grad
# expect-words: None
# why: params.grad is cleared before the update reads it


def f(t, params):
    a, b, c = params
    return a * t ** 2 + b * t + c


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    params.grad = None
    params.data -= lr * params.grad.data
    return loss.item()
