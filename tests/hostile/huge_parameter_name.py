# expect-note: was cut
# expect-points: 3
"""`model` is an nn.Module whose one parameter has a 3 MB name, echoed in every failure message."""
import torch


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_parameter("w" * (3 << 20), torch.nn.Parameter(torch.zeros(1)))

    def forward(self, x, w, b):
        return w * x + b


model = Model()


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
