# expect: wrong
# expect-words: doubles t | squaring
# why: "t squared" typed as 2 * t: the quadratic term becomes linear
def f(t, params):
    a, b, c = params[0], params[1], params[2]
    return a * (2 * t) + b * t + c


def mse(preds, targets):
    diff = preds - targets
    return (diff * diff).mean()


def apply_step(params, t, y, lr):
    loss = mse(f(t, params), y)
    loss.backward()
    params.data -= lr * params.grad.data
    params.grad = None
    return loss.item()
