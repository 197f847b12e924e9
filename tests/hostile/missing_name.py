# expect-verdict: missing name
# expect-points: 7
"""Defines model but forgets loss_fn."""


def model(x, w, b):
    return w * x + b
