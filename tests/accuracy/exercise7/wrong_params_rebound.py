# expect: wrong
# expect-words: as it was given | in place
# why: params = params - lr * grad only rebinds the local name


def f(t, params):
    a, b, c = params
    return a * t ** 2 + b * t + c


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    grad = params.grad
    params = params.detach() - lr * grad
    return loss.item()
