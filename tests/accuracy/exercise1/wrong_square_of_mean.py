# expect: wrong
# expect-words: square of the mean | mean of the square | before squaring
import torch

def model(x, w, b):
    return w * x + b

def loss_fn(y_hat, y):
    return (y_hat - y).mean() ** 2
