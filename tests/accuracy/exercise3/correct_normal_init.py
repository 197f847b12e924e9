# expect: correct
import torch
from torch import nn
from torch.nn import Parameter


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight1 = Parameter(torch.empty(1).normal_())
        self.weight2 = Parameter(torch.empty(1).normal_())
        self.bias = Parameter(torch.empty(1).normal_())

    def forward(self, x):
        out = self.weight1 * x
        out += self.weight2 * x
        out += self.bias
        return out
