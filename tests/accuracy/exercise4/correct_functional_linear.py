# expect: correct
import torch
from torch import nn
import torch.nn.functional as F


class Task2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(1, 2)
        self.layer2 = nn.Linear(2, 1)

    def forward(self, x):
        h = F.linear(x, self.layer1.weight, self.layer1.bias)
        return F.linear(h, self.layer2.weight, self.layer2.bias)
