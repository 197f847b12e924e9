# expect-verdict: time limit
# expect-message: stopped sending
# expect-points: 0
"""Answers a call with two bytes of a reply's four-byte header, then sleeps:
the channel is readable, but a whole frame never comes."""
import os
import stat
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
    os.write(_channel_fd(), b"\x00\x00")
    time.sleep(3600)


def loss_fn(y_hat, y):
    os.write(_channel_fd(), b"\x00")
    time.sleep(3600)
