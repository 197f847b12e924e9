# expect: correct
import torch
import torch.nn.functional as F


def training_loop(n_epochs, learning_rate, params, x, y):
    for _ in range(n_epochs):
        if params.grad is not None:
            params.grad.zero_()
        w = params[0]
        b = params[1]
        loss = F.mse_loss(w * x + b, y)
        loss.backward()
        with torch.no_grad():
            params.add_(params.grad, alpha=-learning_rate)
    return params


def train(model, loss_fn, optimizer, x, y, epochs):
    losses = []
    for epoch in range(epochs):
        optimizer.zero_grad(set_to_none=True)
        predictions = model(x)
        loss = loss_fn(predictions, y)
        losses.append(float(loss))
        loss.backward()
        optimizer.step()
    return losses
