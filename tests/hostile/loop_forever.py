# expect-verdict: time limit
# expect-points: 0
"""model never returns: the exercise's time budget runs out."""


def model(x, w, b):
    while True:
        pass


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
