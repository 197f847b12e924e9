# expect-exercise: exercise5
# expect-verdict: forbidden
# expect-points: 4
# expect-message: torch.optim.SGD
"""training_loop hands the update to torch.optim.SGD instead of writing it by hand."""
from torch.optim import SGD


def training_loop(n_epochs, learning_rate, params, x, y):
    optimizer = SGD([params], lr=learning_rate)
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
