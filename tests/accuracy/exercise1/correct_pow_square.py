# expect: correct
import torch

def model(x, w, b):
    return w*x + b

def loss_fn(y_hat, y):
    return torch.square(y - y_hat).mean()
