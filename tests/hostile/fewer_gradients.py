# expect-verdict: sandbox error
# expect-message: malformed answer
# expect-points: 0
"""Right values, wrong gradients: rewrites the room's serving code so that every reply
carries no gradients at all, hoping the grader compares only the ones it gets."""
import sys

executor = sys.modules["grader.sandbox.untrusted.executor"]
executor._gradients = lambda value, cotangent, args, target: {"input_grads": [], "param_grads": {}}


def model(x, w, b):
    return (w * x + b).detach()


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean().detach()
