# expect: wrong
# expect-words: layer2 | single layer | one layer
import torch
from torch import nn


class Task2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(1, 1)

    def forward(self, x):
        return self.layer1(x)
