# expect: correct
import math
import torch

def dloss_fn(y_hat, y):
    n = math.prod(y_hat.shape)
    return (y_hat - y) * 2 / n

def dmodel_dw(x, w, b):
    return x

def dmodel_db(x, w, b):
    return torch.ones_like(x)

def grad_fn(x, y, y_hat, w, b):
    dL = dloss_fn(y_hat, y)
    return torch.stack((torch.sum(dL * dmodel_dw(x, w, b)), torch.sum(dL * dmodel_db(x, w, b))))
