# expect: correct
import torch


def _mse(pred, target):
    return ((pred - target) ** 2).mean()


def training_loop(n_epochs, learning_rate, params, x, y):
    for epoch in range(n_epochs):
        if params.grad is not None:
            params.grad.zero_()
        loss = _mse(params[0] * x + params[1], y)
        loss.backward()
        with torch.no_grad():
            params[:] = params - learning_rate * params.grad
    return params


def train(model, loss_fn, optimizer, x, y, epochs):
    def one_epoch():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()
    return [one_epoch() for _ in range(epochs)]
