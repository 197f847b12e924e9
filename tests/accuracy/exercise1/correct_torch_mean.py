# expect: correct
# why: torch.mean instead of .mean()
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    return torch.mean((y_hat - y) ** 2)
