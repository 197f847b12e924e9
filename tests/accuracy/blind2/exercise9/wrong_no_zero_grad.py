# expect: wrong
# expect-words: zero | accumulat | pile | add up | cleared
# why: never clears the gradients, so each batch's step adds all the earlier batches' gradients
"""Exercise 9 - A classifier.

A classifier gives one score (a logit) per class; the largest one is its
answer. nn.CrossEntropyLoss compares the logits with the right class and
turns them into probabilities itself, so forward returns the raw logits.

class IRISClassifier(nn.Module)
    __init__(self)
        self.layers = nn.Sequential(nn.Linear(4, 16), nn.Linear(16, 8), nn.Linear(8, 3)):
        4 measurements in, 16 then 8 hidden features, 3 logits out (one per
        class). Nothing else: no activation between the layers in this
        exercise, and no softmax at the end.
    forward(self, x)
        x of shape (N, 4) -> logits of shape (N, 3).

train_one_epoch(model, loader, loss_fn, optimizer)
    One pass over the training data. First model.train(): layers such as
    dropout and batch norm behave differently while training, and the model
    may still be in evaluation mode from an earlier evaluate. Then, for each
    batch (X, y) of the loader: clear the gradients (optimizer.zero_grad(),
    since backward() adds to them), compute the logits and the loss, call
    backward(), and let the optimizer step.
    Returns the mean of the batches' losses, as a Python float.

evaluate(model, loader, loss_fn)
    Measures the model without changing it. First model.eval(): evaluation
    mode switches dropout off and makes batch norm use what it learnt.
    Then run every batch under torch.inference_mode(): autograd records no
    graph there, which is faster and needs less memory (nothing will call
    backward() on these numbers).
    Returns (mean loss, accuracy), two Python floats: the mean of the
    batches' losses, and the fraction of samples (not of batches) whose
    largest logit is at their target class.

Do not print anything: the grader reads what you return.
"""
import torch
from torch import nn


class IRISClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(4, 16), nn.Linear(16, 8), nn.Linear(8, 3))

    def forward(self, x):
        return self.layers(x)


def train_one_epoch(model, loader, loss_fn, optimizer):
    """One epoch of training; returns the mean batch loss (a float)."""
    model.train()
    total = 0.0
    for X, y in loader:
        logits = model(X)
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


def evaluate(model, loader, loss_fn):
    """Evaluation mode and inference mode; returns (mean loss, accuracy)."""
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.inference_mode():
        for X, y in loader:
            logits = model(X)
            total_loss += loss_fn(logits, y).item()
            correct += (logits.argmax(dim=1) == y).sum().item()
    return total_loss / len(loader), correct / len(loader.dataset)


# Check your work:  grade exercise9


if __name__ == "__main__":  # python exercise9.py: train on the real iris measurements with exercise 8's loaders
    import csv
    from pathlib import Path

    from exercise8 import IRISDataset, make_loaders

    with open(Path(__file__).with_name("iris.csv"), newline="") as file:
        rows = [[float(v) for v in row] for row in list(csv.reader(file))[1:]]
    table = torch.tensor(rows)
    train_loader, val_loader, test_loader = make_loaders(IRISDataset(table[:, :4], table[:, 4].long()),
                                                         torch.Generator().manual_seed(42))
    torch.manual_seed(0)
    model = IRISClassifier()
    loss_fn, optimizer = nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(1, 51):
        train_loss = train_one_epoch(model, train_loader, loss_fn, optimizer)
        if epoch % 10 == 0:
            val_loss, val_accuracy = evaluate(model, val_loader, loss_fn)
            print(f"epoch {epoch}: train loss {train_loss:.3f}, validation loss {val_loss:.3f}, "
                  f"accuracy {val_accuracy:.0%}")
    print("test (loss, accuracy):", evaluate(model, test_loader, loss_fn))
