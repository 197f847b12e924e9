# expect: correct
import torch
from torch import nn


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        for name in ["weight1", "weight2", "bias"]:
            setattr(self, name, nn.Parameter(torch.randn(1)))

    def forward(self, x):
        return self.bias + self.weight1 * x + self.weight2 * x
