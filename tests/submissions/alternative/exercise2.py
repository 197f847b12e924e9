"""A correct exercise 2 written differently from the reference."""
import torch


def dloss_fn(y_hat, y):
    n = y_hat.numel()
    return (y_hat - y).mul(2.0 / n)


def dmodel_dw(x, w, b):
    return x.clone()


def dmodel_db(x, w, b):
    return torch.ones(x.shape, dtype=x.dtype)


def grad_fn(x, y, y_hat, w, b):
    d = dloss_fn(y_hat, y)
    return torch.tensor([(d * dmodel_dw(x, w, b)).sum(), (d * dmodel_db(x, w, b)).sum()], dtype=x.dtype)
