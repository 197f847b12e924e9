"""Reference solution for exercise 1: the linear model and its mean squared error."""
import torch


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    squared_diffs = (y_hat - y) ** 2
    return squared_diffs.mean()
