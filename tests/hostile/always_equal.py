# expect-message: not plain data
# expect-points: 3
"""Returns an object that claims to equal everything."""


class Yes:
    def __eq__(self, other):
        return True

    def __bool__(self):
        return True


def model(x, w, b):
    return Yes()


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
