# expect: correct
import torch
import torch.nn as nn


class LinearModel(nn.Module):

    def __init__(self):
        super(LinearModel, self).__init__()
        self.weight1 = nn.Parameter(torch.randn(1, requires_grad=True))
        self.weight2 = nn.Parameter(torch.randn(1, requires_grad=True))
        self.bias = nn.Parameter(torch.randn(1, requires_grad=True))

    def forward(self, x):
        neuron1 = torch.mul(self.weight1, x)
        neuron2 = torch.mul(self.weight2, x)
        return torch.add(torch.add(neuron1, neuron2), self.bias)
