# expect: wrong
# expect-words: training mode
# expect-words: model.eval() | evaluation mode
# why: evaluate forgets model.eval()
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
    total = 0.0
    for X, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def evaluate(model, loader, loss_fn):
    losses, correct, total = [], 0, 0
    with torch.inference_mode():
        for X, y in loader:
            logits = model(X)
            losses.append(loss_fn(logits, y).item())
            correct += (logits.argmax(1) == y).sum().item()
            total += len(y)
    return sum(losses) / len(losses), correct / total
