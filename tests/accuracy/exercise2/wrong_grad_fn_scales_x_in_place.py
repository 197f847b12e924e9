# expect: wrong
# expect-words: in place | modif | changed
import torch

def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()

def dmodel_dw(x, w, b):
    return x

def dmodel_db(x, w, b):
    return torch.ones_like(x)

def grad_fn(x, y, y_hat, w, b):
    dloss = dloss_fn(y_hat, y)
    dw = dmodel_dw(x, w, b)
    dw *= dloss          # saves memory
    db = dmodel_db(x, w, b)
    db *= dloss
    return torch.stack([dw.sum(), db.sum()])
