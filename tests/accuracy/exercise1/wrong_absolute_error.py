# expect: wrong
# expect-words: squares each difference | square
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    return torch.abs(y_hat - y).mean()
