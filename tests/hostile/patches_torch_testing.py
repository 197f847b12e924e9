# expect-message: differs from the expected values
# expect-points: 3
"""Wrong model, and torch's comparison functions patched to always agree."""
import torch
import torch.testing

torch.testing.assert_close = lambda *args, **kwargs: None
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.Tensor.__eq__ = lambda self, other: True


def model(x, w, b):
    return w * x - b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
