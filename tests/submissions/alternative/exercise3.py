"""A correct exercise 3 written differently: parameters registered by name."""
import torch
from torch import nn


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        for name in ("weight1", "weight2", "bias"):
            self.register_parameter(name, nn.Parameter(torch.randn(1)))

    def forward(self, x):
        return (self.weight1 + self.weight2) * x + self.bias
