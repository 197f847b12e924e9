# expect: wrong
# expect-words: square each difference | cancel
# why: the mean error, then squared: errors of opposite signs cancel
def f(t, params):
    a, b, c = params
    return a * t ** 2 + b * t + c


def mse(preds, targets):
    mean_error = (preds - targets).mean()
    return mean_error ** 2


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    params.data -= lr * params.grad.data
    params.grad = None
    return loss.item()
