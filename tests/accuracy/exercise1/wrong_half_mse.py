# expect: wrong
# expect-words: 2 times too small | half
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    # the 1/2 makes the derivative nicer
    return 0.5 * ((y_hat - y) ** 2).mean()
