# expect: wrong
# expect-words: no gradient | does not carry | detach
import torch

def model(x, w, b):
    y_hat = w * x + b
    return y_hat.detach()

def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
