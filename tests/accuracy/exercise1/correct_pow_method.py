# expect: correct
import torch

def model(x, w, b):
    return torch.as_tensor(w) * x + torch.as_tensor(b)

def loss_fn(y_hat, y):
    return (y_hat - y).pow(2).mean()
