# expect-points: 10
"""Tries to make a System V shared-memory segment, a message queue and a
semaphore set (issue 23 §8: they outlive the room and reach the next one,
whose code can be run from them). Correct only where every one is refused;
any one it gets is removed and the model answers wrongly, so a missing wall
costs this case its points."""
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
made = []
for make, remove in ((lambda: libc.shmget(0x74677200, ctypes.c_size_t(1 << 20), IPC_CREAT | 0o666),
                      lambda ident: libc.shmctl(ident, IPC_RMID, None)),
                     (lambda: libc.msgget(0x74677201, IPC_CREAT | 0o666),
                      lambda ident: libc.msgctl(ident, IPC_RMID, None)),
                     (lambda: libc.semget(0x74677202, 1, IPC_CREAT | 0o666),
                      lambda ident: libc.semctl(ident, 0, IPC_RMID))):
    ident = make()
    if ident >= 0:
        made.append(ident)
        remove(ident)


def model(x, w, b):
    return w * x + b + len(made)


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
