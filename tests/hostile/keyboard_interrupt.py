# expect-message: raised KeyboardInterrupt
# expect-points: 3
"""model raises KeyboardInterrupt: a verdict, not a stopped grader."""


def model(x, w, b):
    raise KeyboardInterrupt


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
