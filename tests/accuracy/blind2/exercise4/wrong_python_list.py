# expect: wrong
# expect-words: not registered | plain list | ModuleList | no parameters
# why: keeps the layers in a Python list, so the module registers none of their parameters
"""Exercise 4 - Stacked nn.Linear layers.

nn.Linear(in_features, out_features) is a ready-made layer: it creates and
registers its own weight (shape (out_features, in_features)) and bias (shape
(out_features,)), and computes x @ weight.T + bias on a batch of inputs.
Stacking layers is how networks are built: the output features of one layer
are the input features of the next.

Write the class Task2(nn.Module):

__init__(self)
    Call super().__init__() first. Then create two layers:
        self.layer1  takes 1 input feature to 2 output features
        self.layer2  takes those 2 features back to 1 output feature
    so the model has four registered parameters: layer1.weight (2, 1),
    layer1.bias (2,), layer2.weight (1, 2) and layer2.bias (1,).

forward(self, x)
    x is a batch of inputs of shape (N, 1): N samples, 1 feature each.
    Returns layer2 applied to the output of layer1, a tensor of shape (N, 1).
    No activation function in between: this exercise is about wiring layers.

(Without an activation, two linear layers still compute a linear function of
x; later in the course a non-linearity between them changes that.)
"""
import torch
from torch import nn


class Task2(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(1, 2), nn.Linear(2, 1)]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


# Check your work:  grade exercise4
