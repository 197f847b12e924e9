# expect-note: output truncated
# expect-points: 10
"""Correct, but writes 200 MB to stderr and straight to file descriptors 1 and 2."""
import os
import sys

chunk = "E" * (1 << 20)
for _ in range(200):
    sys.stderr.write(chunk)
for fd in (1, 2):
    os.write(fd, b"raw" * 1000)


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
