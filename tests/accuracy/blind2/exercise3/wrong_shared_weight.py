# expect: wrong
# expect-words: same parameter | shared | tied | one tensor | independent
# why: makes weight2 the same Parameter object as weight1, so only two parameters are registered
"""Exercise 3 - Two neurons with nn.Parameter.

An nn.Module is a container for parameters plus a forward() that uses them.
PyTorch only knows a tensor is a parameter of your model - so that
model.parameters() lists it, an optimizer updates it, and it is saved with
the model - if you wrap it in nn.Parameter and assign it as an attribute in
__init__. A plain tensor stored on the module is invisible to all of that.

Write the class LinearModel(nn.Module):

__init__(self)
    Call super().__init__() first. Then register three parameters, each an
    nn.Parameter of shape (1,) with a random starting value (torch.randn(1)):
        self.weight1, self.weight2, self.bias
    model.named_parameters() must then list exactly those three names.

forward(self, x)
    x is a tensor of any shape, e.g. (N,) or (N, 1).
    Returns bias + weight1 * x + weight2 * x, a tensor shaped like x: two
    "neurons" that each scale the input, added together with one bias.

Call it the PyTorch way: model = LinearModel(); y_hat = model(x).
(Two weights on the same input is redundant on purpose: the gradients of
weight1 and weight2 come out equal - a nice thing to check yourself.)
"""
import torch
from torch import nn


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight1 = nn.Parameter(torch.randn(1))
        self.weight2 = self.weight1
        self.bias = nn.Parameter(torch.randn(1))

    def forward(self, x):
        return self.bias + self.weight1 * x + self.weight2 * x


# Check your work:  grade exercise3
