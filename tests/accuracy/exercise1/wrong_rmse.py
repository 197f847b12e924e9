# expect: wrong
# expect-words: square root | rmse
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    return torch.sqrt(torch.mean((y_hat - y) ** 2))
