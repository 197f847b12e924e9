# expect-verdict: sandbox error
# expect-message: more than
# expect-points: 0
"""Announces a reply far beyond the grader's size limit (and a negative one):
refused by its header, before any of it is read."""
import os
import stat
import struct
import time


def _channel_fd():
    for fd in range(3, 256):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
    raise LookupError("no channel")


def model(x, w, b):
    os.write(_channel_fd(), struct.pack("!i", 0x7FFFFFF0))
    time.sleep(3600)


def loss_fn(y_hat, y):
    os.write(_channel_fd(), struct.pack("!i", -7))
    time.sleep(3600)
