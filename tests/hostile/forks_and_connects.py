# expect-message: PermissionError
# expect-points: 3
"""model tries to fork a survivor, open a socket and signal its parent."""
import os
import socket


def model(x, w, b):
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
    socket.create_connection(("127.0.0.1", 9))
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
