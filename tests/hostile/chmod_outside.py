# expect-points: 10
"""Correct, but first tries to change the mode of files and folders outside
its scratch folder (the folder scratch lives in, the interpreter's library,
torch), by path, without following links and through a descriptor. Each
attempt asks for the mode the file already has, so a missing wall changes
nothing; each one that gets through makes the model wrong."""
import os
import stat

import torch


def _fchmod(path, mode):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


escaped = 0
for path in (os.path.dirname(os.getcwd()), os.__file__, torch.__file__):
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        continue
    attempts = [lambda: os.chmod(path, mode), lambda: os.chmod(path, mode, follow_symlinks=False)]
    if os.path.isfile(path):
        attempts.append(lambda: _fchmod(path, mode))
    for attempt in attempts:
        try:
            attempt()
            escaped += 1
        except (OSError, NotImplementedError):
            pass


def model(x, w, b):
    return w * x + b + escaped


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean() + escaped
