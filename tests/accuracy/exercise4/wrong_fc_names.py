# expect: wrong
# expect-words: fc1
# expect-words: layer1
import torch
from torch import nn


class Task2(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(1, 2)
        self.fc2 = nn.Linear(2, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))
