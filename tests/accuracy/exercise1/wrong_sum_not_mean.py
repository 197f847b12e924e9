# expect: wrong
# expect-words: times too large | grows with the number
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).sum()
