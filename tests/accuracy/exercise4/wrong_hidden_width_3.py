# expect: wrong
# expect-words: width | 3 features | (1, 3) | linear(1, 3)
import torch
from torch import nn


class Task2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(1, 3)
        self.layer2 = nn.Linear(3, 1)

    def forward(self, x):
        return self.layer2(self.layer1(x))
