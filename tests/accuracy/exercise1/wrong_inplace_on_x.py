# expect: wrong
# expect-words: in-place | in place
import torch

def model(x, w, b):
    x.mul_(w)
    x.add_(b)
    return x

def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
