# expect: wrong
# expect-words: b changes | bias
import torch

def model(x, w, b):
    return w * x

def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
