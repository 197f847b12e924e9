# expect: wrong
# expect-words: swapped | w and b | b and w
import torch

def model(x, w, b):
    return b * x + w

def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
