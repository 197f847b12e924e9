# expect-verdict: import error
# expect-message: syntax error
# expect-points: 0
"""A syntax error."""


def model(x, w, b)
    return w * x + b
