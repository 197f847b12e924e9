# expect-verdict: time limit
# expect-message: and not the rest
# expect-points: 0
"""Announces a reply just under the grader's size limit, then sends it a few
bytes at a time: every read finds something, the frame never ends."""
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


def _trickle():
    fd = _channel_fd()
    os.write(fd, struct.pack("!i", 60 << 20))
    while True:
        os.write(fd, b"{")
        time.sleep(0.05)


def model(x, w, b):
    _trickle()


def loss_fn(y_hat, y):
    _trickle()
