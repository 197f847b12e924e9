# expect: correct
import torch
from torch import nn

criterion = nn.MSELoss()

def model(x, w, b):
    return b + x * w

def loss_fn(y_hat, y):
    return criterion(y_hat, y)
