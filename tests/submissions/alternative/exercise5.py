"""A correct exercise 5 written differently from the reference."""
import torch


def training_loop(n_epochs, learning_rate, params, x, y):
    for _ in range(n_epochs):
        params.grad = None
        w, b = params[0], params[1]
        loss = torch.mean(torch.square(w * x + b - y))
        loss.backward()
        with torch.no_grad():
            params.sub_(learning_rate * params.grad)
    return params


def train(model, loss_fn, optimizer, x, y, epochs):
    history = []
    for _ in range(epochs):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        history.append(float(loss))
    return history
