# expect: correct
import torch

def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()

def dmodel_dw(x, w, b):
    return x

def dmodel_db(x, w, b):
    return torch.ones_like(x)

def grad_fn(x, y, y_hat, w, b):
    d = dloss_fn(y_hat, y).reshape(-1)
    dw = torch.dot(d, dmodel_dw(x, w, b).reshape(-1))
    db = torch.dot(d, dmodel_db(x, w, b).reshape(-1))
    return torch.cat([dw.reshape(1), db.reshape(1)])
