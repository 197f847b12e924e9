# expect: wrong
# expect-words: python float | .item() | a float
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean().item()
