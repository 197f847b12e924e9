# expect-message: not plain data
# expect-points: 3
"""Returns a Tensor subclass whose comparisons always agree."""
import torch


class Liar(torch.Tensor):
    def __eq__(self, other):
        return True

    def allclose(self, *args, **kwargs):
        return True


def model(x, w, b):
    return (b * 0).as_subclass(Liar)


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
