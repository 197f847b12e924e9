# expect: correct
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    # add up the squared errors one by one, then divide
    total = 0
    flat_pred = y_hat.reshape(-1)
    flat_true = y.reshape(-1)
    for i in range(len(flat_pred)):
        total = total + (flat_pred[i] - flat_true[i]) ** 2
    return total / len(flat_pred)
