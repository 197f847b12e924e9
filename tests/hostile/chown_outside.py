# expect-points: 10
"""Correct, but first tries to change the owner of files and folders outside
its scratch folder (the folder scratch lives in, the interpreter's library,
torch): chown, lchown, fchown. Each asks for the owner the file already has,
so a missing wall changes nothing; each one that gets through makes the
model wrong. (Given root, a student could hand any file to anyone.)"""
import os

import torch


def _fchown(path, owner):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fchown(fd, *owner)
    finally:
        os.close(fd)


escaped = 0
for path in (os.path.dirname(os.getcwd()), os.__file__, torch.__file__):
    try:
        status = os.stat(path)
    except OSError:
        continue
    owner = (status.st_uid, status.st_gid)
    attempts = [lambda: os.chown(path, *owner), lambda: os.lchown(path, *owner)]
    if os.path.isfile(path):
        attempts.append(lambda: _fchown(path, owner))
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
