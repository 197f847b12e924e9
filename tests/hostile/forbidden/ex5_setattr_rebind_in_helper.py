# expect-exercise: exercise5
# expect-verdict: forbidden
# expect-points: 4
# expect-message: setattr()
"""A helper called at import replaces training_loop with an optimizer version through setattr on the module."""
import sys

import torch


def training_loop(n_epochs, learning_rate, params, x, y):
    for _ in range(n_epochs):
        if params.grad is not None:
            params.grad.zero_()
        w, b = params
        ((w * x + b - y) ** 2).mean().backward()
        with torch.no_grad():
            params -= learning_rate * params.grad
    return params


def train(model, loss_fn, optimizer, x, y, epochs):
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _with_an_optimizer(n_epochs, learning_rate, params, x, y):
    optimizer = torch.optim.SGD([params], lr=learning_rate)
    for _ in range(n_epochs):
        optimizer.zero_grad()
        w, b = params
        ((w * x + b - y) ** 2).mean().backward()
        optimizer.step()
    return params


def _install(name, function):
    setattr(sys.modules[__name__], name, function)


_install("training_loop", _with_an_optimizer)
