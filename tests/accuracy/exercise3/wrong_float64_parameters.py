# expect: wrong
# expect-words: float64 | double
import torch
from torch import nn


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight1 = nn.Parameter(torch.rand(1, dtype=float))
        self.weight2 = nn.Parameter(torch.rand(1, dtype=float))
        self.bias = nn.Parameter(torch.rand(1, dtype=float))

    def forward(self, x):
        return self.bias + self.weight1 * x + self.weight2 * x
