# expect: correct
import torch

def dloss_fn(y_hat, y):
    return 2.0 * (y_hat - y) / torch.numel(y_hat)

def dmodel_dw(x, w, b):
    return 1 * x

def dmodel_db(x, w, b):
    return x * 0 + 1

def grad_fn(x, y, y_hat, w, b):
    # averaging 2 * diff * x is the same as summing dloss * x
    diff = y_hat - y
    return torch.stack([torch.mean(2 * diff * x), torch.mean(2 * diff)])
