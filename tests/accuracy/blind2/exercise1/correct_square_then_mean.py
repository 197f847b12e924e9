# expect: correct
"""Exercise 1 - Fix the model.

Every model in this course is built from two functions: the *model*, which
turns inputs into predictions, and the *loss*, a single number saying how far
those predictions are from the truth. Learning means nudging the parameters
until the loss is small, so if either function is wrong nothing can learn.

Our data are thermometer readings: ``x`` in an unknown unit and ``y`` the same
readings in Celsius. We bet they are linearly related, y ~ w * x + b, and want
to learn the weight ``w`` and the bias ``b``.

model(x, w, b)
    x     a tensor of inputs, any shape: (N,), (N, 1), ...
    w, b  the parameters: Python floats or tensors (0-dim or shape (1,)).
    Returns the prediction y_hat = w * x + b for every element of x, a tensor
    broadcast to the shape of x. The line below was copied from the course
    notes and it has a bug: the prediction ignores x. Fix it.

loss_fn(y_hat, y)
    y_hat  the model's predictions, a tensor.
    y      the true values, a tensor of the same shape.
    Returns the mean squared error: square each difference y_hat - y, then
    take the average over all elements. The result is a 0-dim tensor.

Use tensor operations only (no Python loops, no .item(), no numpy): in later
exercises autograd differentiates through exactly these two functions.
"""
import torch


def model(x, w, b):
    """The linear model. There is a bug on the line below: fix it."""
    y_hat = w * x
    y_hat = y_hat + b
    return y_hat


def loss_fn(y_hat, y):
    """The mean squared error between predictions and targets (a 0-dim tensor)."""
    return torch.mean(torch.square(y_hat - y))


# Check your work:  grade exercise1
