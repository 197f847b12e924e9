# expect: wrong
# expect-words: in place | modif | overwr | caller
# why: subtracts y from y_hat in place, overwriting the caller's predictions
"""Exercise 2 - Gradient by hand.

To improve w and b we need to know which way the loss goes when each of them
moves a little: the gradient [dL/dw, dL/db]. Before letting autograd do it,
compute it yourself with the chain rule for the model y_hat = w * x + b and
the loss L = mean((y_hat - y) ** 2), over N = y_hat.numel() elements:

    dL/dw = sum over i of  dL/dy_hat_i * dy_hat_i/dw
    dL/db = sum over i of  dL/dy_hat_i * dy_hat_i/db

dloss_fn(y_hat, y)
    Tensors of the same shape. Returns dL/dy_hat elementwise: a tensor of that
    shape holding the derivative of the MSE with respect to each prediction
    (remember the square and the averaging over N).
dmodel_dw(x, w, b)
    Returns dy_hat/dw for every element of x: a tensor shaped like x.
dmodel_db(x, w, b)
    Returns dy_hat/db for every element of x. The derivative is the same
    number everywhere; return it as a tensor shaped like x (torch.ones_like
    is handy) so it multiplies elementwise just like dmodel_dw's answer.
grad_fn(x, y, y_hat, w, b)
    x, y, y_hat are tensors of the same shape; w, b floats or tensors.
    Returns a tensor of shape (2,): [dL/dw, dL/db]. Use the three functions
    above and the chain rule; each entry is a sum over all elements.
    torch.stack turns a list of 0-dim tensors into a 1-d tensor.

Do not use autograd (.backward(), torch.autograd) here: that is the point.
The grader checks your answer against autograd's.
"""
import torch


def dloss_fn(y_hat, y):
    """dL/dy_hat for the mean squared error, elementwise."""
    diff = y_hat
    diff -= y
    return 2 * diff / diff.numel()


def dmodel_dw(x, w, b):
    """dy_hat/dw for the linear model, shaped like x."""
    return x


def dmodel_db(x, w, b):
    """dy_hat/db for the linear model, as a tensor shaped like x."""
    return torch.ones_like(x)


def grad_fn(x, y, y_hat, w, b):
    """The gradient [dL/dw, dL/db] of the loss, a tensor of shape (2,)."""
    dl = dloss_fn(y_hat, y)
    dldw = (dl * dmodel_dw(x, w, b)).sum()
    dldb = (dl * dmodel_db(x, w, b)).sum()
    return torch.stack([dldw, dldb])


# Check your work:  grade exercise2
