# expect: wrong
# expect-words: times too large
# expect-words: len | first dimension | rows
# why: len() counts rows only on 2-D inputs
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).sum() / len(y)
