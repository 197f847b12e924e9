# expect-points: 10
"""Correct, but first tries to set the access and modification times of
files and folders outside its scratch folder (the folder scratch lives in,
the interpreter's library, torch): utime by path, without following links,
and through a descriptor. Each sets the times the file already has, so a
missing wall changes nothing; each one that gets through makes the model
wrong."""
import os

import torch


def _futime(path, times):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.utime(fd, ns=times)
    finally:
        os.close(fd)


escaped = 0
for path in (os.path.dirname(os.getcwd()), os.__file__, torch.__file__):
    try:
        status = os.stat(path)
    except OSError:
        continue
    times = (status.st_atime_ns, status.st_mtime_ns)
    attempts = [lambda: os.utime(path, ns=times), lambda: os.utime(path, ns=times, follow_symlinks=False)]
    if os.path.isfile(path):
        attempts.append(lambda: _futime(path, times))
    for attempt in attempts:
        try:
            attempt()
            escaped += 1
        except OSError:
            pass


def model(x, w, b):
    return w * x + b + escaped


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean() + escaped
