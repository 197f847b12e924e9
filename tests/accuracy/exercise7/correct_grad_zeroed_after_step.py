# expect: correct
# why: params.grad.zero_() after the step instead of None: the next backward() adds to zeros just the same


def f(t, params):
    a, b, c = params
    return (a * t + b) * t + c


def mse(preds, targets):
    diff = preds - targets
    return (diff * diff).sum() / diff.numel()


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    params.data.sub_(lr * params.grad.data)
    params.grad.zero_()
    return loss.item()
