# expect: wrong
# expect-words: no gradient | does not carry | no_grad
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    with torch.no_grad():
        loss = ((y_hat - y) ** 2).mean()
    return loss
