# expect-message: raised GeneratorExit
# expect-points: 3
"""model raises GeneratorExit."""


def model(x, w, b):
    raise GeneratorExit


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
