# expect: wrong
# expect-words: in place
# expect-words: no_grad
# why: params -= lr * params.grad while autograd records


def f(t, params):
    a, b, c = params
    return a * t ** 2 + b * t + c


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    params -= lr * params.grad
    params.grad = None
    return loss.item()
