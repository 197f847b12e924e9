# expect-verdict: sandbox error
# expect-message: malformed answer
# expect-points: 7
"""loss_fn answers with an integer of 400 digits (no exercise asks for a number beyond 64 bits)."""


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return 10 ** 400
