# expect: wrong
# expect-words: nn.Parameter | not registered | plain tensor
import torch
from torch import nn


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight1 = torch.randn(1, requires_grad=True)
        self.weight2 = torch.randn(1, requires_grad=True)
        self.bias = torch.randn(1, requires_grad=True)

    def forward(self, x):
        return self.bias + self.weight1 * x + self.weight2 * x
