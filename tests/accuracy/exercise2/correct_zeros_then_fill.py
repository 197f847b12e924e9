# expect: correct
import torch

def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()

def dmodel_dw(x, w, b):
    return x

def dmodel_db(x, w, b):
    return torch.ones_like(x)

def grad_fn(x, y, y_hat, w, b):
    grad = torch.zeros(2)
    dloss = dloss_fn(y_hat, y)
    grad[0] = (dloss * dmodel_dw(x, w, b)).sum()
    grad[1] = (dloss * dmodel_db(x, w, b)).sum()
    return grad
