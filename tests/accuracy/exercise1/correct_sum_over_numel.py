# expect: correct
import torch

def model(x, w, b):
    y_hat = x * w + b
    return y_hat

def loss_fn(y_hat, y):
    diff = y_hat - y
    return (diff ** 2).sum() / diff.numel()
