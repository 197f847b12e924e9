# expect: wrong
# expect-words: before | start of each epoch | already
import torch


def training_loop(n_epochs, learning_rate, params, x, y):
    for epoch in range(1, n_epochs + 1):
        if params.grad is not None:
            params.grad.zero_()
        w, b = params
        y_hat = w * x + b
        loss = ((y_hat - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            params -= learning_rate * params.grad
    return params


def train(model, loss_fn, optimizer, x, y, epochs):
    losses = []
    for _ in range(epochs):
        y_hat = model(x)
        loss = loss_fn(y_hat, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses
