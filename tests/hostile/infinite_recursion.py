# expect-message: RecursionError
# expect-points: 3
"""model recurses forever."""


def model(x, w, b):
    return model(x, w, b)


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
