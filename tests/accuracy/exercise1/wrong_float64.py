# expect: wrong
# expect-words: float64 | double
import torch

def model(x, w, b):
    return (w * x + b).double()

def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
