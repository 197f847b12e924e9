# expect: wrong
# expect-words: wrong order
# why: evaluate returns (accuracy, loss): a tuple in the order the student thinks of them
import torch
from torch import nn


class IRISClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(4, 16), nn.Linear(16, 8), nn.Linear(8, 3))

    def forward(self, x):
        return self.layers(x)


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    running = []
    for X, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        running.append(loss.item())
    return sum(running) / len(running)


def evaluate(model, loader, loss_fn):
    model.eval()
    n_correct, n_seen, batch_losses = 0, 0, []
    with torch.inference_mode():
        for X, y in loader:
            out = model(X)
            batch_losses.append(loss_fn(out, y).item())
            n_correct += int((out.argmax(dim=1) == y).sum())
            n_seen += y.shape[0]
    accuracy = n_correct / n_seen
    mean_loss = sum(batch_losses) / len(batch_losses)
    return accuracy, mean_loss
