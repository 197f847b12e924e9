# expect: wrong
# expect-words: times too small
import torch

def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()

def dmodel_dw(x, w, b):
    return x

def dmodel_db(x, w, b):
    return torch.ones_like(x)

def grad_fn(x, y, y_hat, w, b):
    dloss_dyhat = dloss_fn(y_hat, y)
    dloss_dw = dloss_dyhat * dmodel_dw(x, w, b)
    dloss_db = dloss_dyhat * dmodel_db(x, w, b)
    return torch.stack([dloss_dw.mean(), dloss_db.mean()])
