# expect-message: raised Escape
# expect-points: 3
"""model raises a BaseException subclass and GeneratorExit-like escapes."""


class Escape(BaseException):
    pass


def model(x, w, b):
    raise Escape("catch me if you can")


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
