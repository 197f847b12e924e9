# expect: correct
import torch
import torch.nn.functional as F

def model(x, w, b):
    return torch.add(torch.mul(w, x), b)

def loss_fn(y_hat, y):
    return F.mse_loss(y_hat, y)
