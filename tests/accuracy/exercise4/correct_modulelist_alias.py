# expect: correct
# why: the layers also held in an nn.ModuleList: the same objects
import torch
from torch import nn


class Task2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(1, 2)
        self.layer2 = nn.Linear(2, 1)
        self.layers = nn.ModuleList([self.layer1, self.layer2])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
