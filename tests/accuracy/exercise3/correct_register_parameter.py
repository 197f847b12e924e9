# expect: correct
import torch
from torch import nn


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_parameter("weight1", nn.Parameter(torch.randn(1)))
        self.register_parameter("weight2", nn.Parameter(torch.randn(1)))
        self.register_parameter("bias", nn.Parameter(torch.randn(1)))

    def forward(self, x):
        return self.bias + self.weight1 * x + self.weight2 * x
