# expect: correct
"""Exercise 5 - The training loop.

Learning is a loop: predict, measure the loss, ask autograd for the gradient,
take a small step against it, repeat. Write it twice: once by hand, once with
the tools PyTorch gives you.

training_loop(n_epochs, learning_rate, params, x, y)
    n_epochs       int, how many passes over the data (exactly that many).
    learning_rate  float, the step size.
    params         tensor([w, b], requires_grad=True), shape (2,).
    x, y           tensors of the same shape: inputs and targets.
    Each epoch: if params.grad is not None, zero it (backward() *adds* to
    .grad, so old gradients would pile up); predict y_hat = w * x + b; take
    the mean squared error against y; call backward(); then, inside
    torch.no_grad(), move params a step against the gradient *in place*.
    Updating in place keeps params the same leaf tensor that autograd tracks.
    Returns params (the same tensor you were given, now trained).

train(model, loss_fn, optimizer, x, y, epochs)
    model      an nn.Module; model(x) gives the predictions.
    loss_fn    e.g. nn.MSELoss(); loss_fn(y_hat, y) gives a 0-dim tensor.
    optimizer  a torch.optim optimizer built on model.parameters().
    x, y       tensors; epochs: int, how many steps to take.
    Each epoch: clear old gradients with the optimizer, predict, compute the
    loss, backward(), and let the optimizer take its step.
    Returns a list of `epochs` Python floats: each epoch's loss, as computed
    before that epoch's step (loss.item()).

Do not print anything: the grader reads what you return.
"""
import torch


def training_loop(n_epochs, learning_rate, params, x, y):
    """Plain gradient descent on params = [w, b]; returns params."""
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
    """Train model with optimizer; returns the list of per-epoch losses."""
    losses = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        y_hat = model(x)
        loss = loss_fn(y_hat, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# Check your work:  grade exercise5
