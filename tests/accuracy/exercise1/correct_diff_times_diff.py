# expect: correct
import torch

def model(x, w, b):
    prediction = w * x
    prediction = prediction + b
    return prediction

def loss_fn(y_hat, y):
    d = y_hat - y
    return (d * d).mean()
