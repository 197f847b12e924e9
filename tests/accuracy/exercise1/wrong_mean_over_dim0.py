# expect: wrong
# expect-words: shape | single number | 0-dim
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean(dim=0)
