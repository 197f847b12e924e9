# expect: wrong
# expect-words: layer1
import torch
from torch import nn


class Task2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(1, 2), nn.Linear(2, 1)])

    def forward(self, x):
        return self.layers[1](self.layers[0](x))
