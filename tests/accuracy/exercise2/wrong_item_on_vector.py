# expect: wrong
# expect-words: .item() | one element | single number
import torch

def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()

def dmodel_dw(x, w, b):
    return x

def dmodel_db(x, w, b):
    return torch.ones_like(x)

def grad_fn(x, y, y_hat, w, b):
    dloss = dloss_fn(y_hat, y)
    dw = (dloss * dmodel_dw(x, w, b)).item()
    db = (dloss * dmodel_db(x, w, b)).item()
    return torch.tensor([dw, db])
