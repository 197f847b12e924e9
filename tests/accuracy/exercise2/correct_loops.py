# expect: correct
import torch

def dloss_fn(y_hat, y):
    n = y_hat.numel()
    return 2 * (y_hat - y) / n

def dmodel_dw(x, w, b):
    return x

def dmodel_db(x, w, b):
    return torch.ones_like(x)

def grad_fn(x, y, y_hat, w, b):
    dl = dloss_fn(y_hat, y).flatten()
    dw_all = dmodel_dw(x, w, b).flatten()
    db_all = dmodel_db(x, w, b).flatten()
    grad_w = 0.0
    grad_b = 0.0
    for i in range(len(dl)):
        grad_w += dl[i] * dw_all[i]
        grad_b += dl[i] * db_all[i]
    return torch.stack([grad_w, grad_b])
