# expect: correct
import torch

def dloss_fn(y_hat, y):
    N = y.numel()
    return (2 / N) * (y_hat - y)

def dmodel_dw(x, w, b):
    return x

def dmodel_db(x, w, b):
    return torch.full_like(x, 1.0)

def grad_fn(x, y, y_hat, w, b):
    dloss_dyhat = dloss_fn(y_hat, y)
    return torch.stack([(dloss_dyhat * dmodel_dw(x, w, b)).sum(),
                        (dloss_dyhat * dmodel_db(x, w, b)).sum()])
