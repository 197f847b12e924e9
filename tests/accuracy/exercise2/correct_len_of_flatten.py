# expect: correct
import torch

def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / len(y_hat.flatten())

def dmodel_dw(x, w, b):
    return x.clone()

def dmodel_db(x, w, b):
    return torch.ones(x.shape)

def grad_fn(x, y, y_hat, w, b):
    g = dloss_fn(y_hat, y)
    return torch.tensor([(g * dmodel_dw(x, w, b)).sum().item(), (g * dmodel_db(x, w, b)).sum().item()])
