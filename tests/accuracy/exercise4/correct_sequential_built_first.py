# expect: correct
# why: the layers built in an nn.Sequential first, then also kept as layer1 and layer2
import torch
from torch import nn


class Task2(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 2), nn.Linear(2, 1))
        self.layer1 = self.net[0]
        self.layer2 = self.net[1]

    def forward(self, x):
        return self.net(x)
