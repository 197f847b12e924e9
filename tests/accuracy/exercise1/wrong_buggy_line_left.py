# expect: wrong
# expect-words: x changes | ignores x | does not depend on x | same number everywhere
# why: the bug of the course notes left in
import torch

def model(x, w, b):
    return b + w * b

def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
