# expect: wrong
# expect-words: no gradient | does not carry | detach
import torch
from torch import nn


class Task2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(1, 2)
        self.layer2 = nn.Linear(2, 1)

    def forward(self, x):
        return self.layer2(self.layer1(x)).detach()
