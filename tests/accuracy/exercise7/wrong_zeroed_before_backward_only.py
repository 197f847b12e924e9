# expect: wrong
# expect-words: leaves a gradient
# why: the gradient is zeroed at the start (as in exercise 5) but left in params.grad after the step


def f(t, params):
    a, b, c = params
    return a * t ** 2 + b * t + c


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def apply_step(params, t, y, lr):
    if params.grad is not None:
        params.grad.zero_()
    loss = mse(f(t, params), y)
    loss.backward()
    params.data -= lr * params.grad.data
    return loss.item()
