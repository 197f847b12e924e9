# expect-verdict: time limit
# expect-message: of CPU time in all, every thread of its sandbox counted
# expect-points: 0
"""Starts 32 threads (or as many as it may) that multiply matrices for ever (torch releases the GIL,
so they take every core), then spins too: its time limit is counted in the
CPU time of all its threads, so it ends sooner, not later, and no neighbour
graded at the same time pays for it."""
import threading

import torch


def _spin():
    a = torch.ones(128, 128)
    while True:
        a @ a


def model(x, w, b):
    for _ in range(32):
        try:
            threading.Thread(target=_spin, daemon=True).start()
        except RuntimeError:  # no more threads for this room: spin with those it has
            break
    _spin()


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
