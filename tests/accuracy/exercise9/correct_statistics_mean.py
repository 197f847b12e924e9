# expect: correct
# why: the classifier built without a Sequential variable first; losses averaged with statistics.mean
import statistics

import torch
from torch import nn


class IRISClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        layers = [nn.Linear(4, 16), nn.Linear(16, 8), nn.Linear(8, 3)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def train_one_epoch(model, loader, loss_fn, optimizer):
    model.train()
    losses = []
    for features, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(features), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return statistics.mean(losses)


def evaluate(model, loader, loss_fn):
    model.eval()
    losses, hits, seen = [], 0.0, 0
    with torch.inference_mode():
        for features, labels in loader:
            logits = model(features)
            losses.append(float(loss_fn(logits, labels)))
            hits += (torch.argmax(logits, dim=1) == labels).float().sum().item()
            seen += labels.numel()
    return statistics.mean(losses), hits / seen
