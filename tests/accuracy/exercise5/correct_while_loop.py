# expect: correct
import torch


def training_loop(n_epochs, learning_rate, params, x, y):
    epoch = 0
    while epoch < n_epochs:
        if params.grad is not None:
            params.grad.zero_()
        y_hat = params[0] * x + params[1]
        loss = torch.mean((y_hat - y) ** 2)
        loss.backward()
        with torch.no_grad():
            params.sub_(learning_rate * params.grad)
        epoch += 1
    return params


def train(model, loss_fn, optimizer, x, y, epochs):
    history = []
    epoch = 0
    while epoch < epochs:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        history.append(loss.item())
        loss.backward()
        optimizer.step()
        epoch += 1
    return history
