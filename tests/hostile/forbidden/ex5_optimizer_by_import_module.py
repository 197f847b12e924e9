# expect-exercise: exercise5
# expect-verdict: forbidden
# expect-points: 4
# expect-message: torch.optim
"""training_loop finds the optimizer through importlib with a constant name, via a helper."""
import importlib


def _optimizer(params, learning_rate):
    return importlib.import_module("torch.optim").SGD([params], lr=learning_rate)


def training_loop(n_epochs, learning_rate, params, x, y):
    optimizer = _optimizer(params, learning_rate)
    for _ in range(n_epochs):
        optimizer.zero_grad()
        w, b = params
        ((w * x + b - y) ** 2).mean().backward()
        optimizer.step()
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
