"""The grader's end of a sandbox's data socket: framed reads and writes, each with a deadline.

A sandbox speaks ``multiprocessing.connection``'s framing (a 4-byte signed
big-endian length, or -1 and an 8-byte length, then the bytes), and the
grader reads it here on the raw descriptor instead of through
``Connection.recv_bytes``. ``Connection.poll`` saying "readable" only means
one byte is there: a sandbox that sends half a header and then sleeps would
block ``recv_bytes`` for ever, and so would one that announces a large reply
and trickles it. Here every read and write polls with what is left of one
deadline and takes only the bytes that are there, so each call ends by the
deadline whatever the other end does (ARCHITECTURE.md: every wait has a deadline).

Nothing here decodes a reply: it hands back bytes, at most ``max_bytes`` of
them (a longer frame is refused by its header, before it is read).
"""
from __future__ import annotations

import errno
import select
import socket
import struct
import time
from collections.abc import Iterable
from typing import Protocol

_SHORT = struct.Struct("!i")
_LONG = struct.Struct("!Q")
_CHUNK = 1 << 20


class Deadline(Protocol):
    """A deadline that is not a point on the wall clock (a room's CPU time, say)."""

    def wait_s(self) -> float:
        """How long a wait may last before asking again; 0 or less: the deadline has passed."""
        ...


class ChannelTimeout(Exception):
    """The deadline passed before a whole frame was read or written."""

    def __init__(self, received: int = 0, expected: int | None = None) -> None:
        super().__init__("deadline passed")
        self.received = received  # bytes of the unfinished frame (header included) that did arrive
        self.expected = expected  # its announced length, when the header had arrived


class ChannelClosed(Exception):
    """The other end closed the socket (or died), perhaps part-way through a frame."""

    def __init__(self, received: int = 0) -> None:
        super().__init__("the other end closed the channel")
        self.received = received


class FrameTooLarge(Exception):
    """A frame's header announced more than the reader accepts (or a negative length)."""

    def __init__(self, length: int) -> None:
        super().__init__(f"a frame of {length} bytes")
        self.length = length


class Channel:
    """Framed bytes over one stream socket, every call bounded by a deadline
    (``time.monotonic()`` seconds). The descriptor is non-blocking for its
    whole life; only this object reads or writes it."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self.closed = False

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, frames: Iterable[bytes], deadline: float | Deadline) -> None:
        """Write each frame whole, or raise ChannelTimeout / ChannelClosed."""
        pending: list[bytes] = []  # small frames go out together, in one system call
        for frame in frames:
            header = _SHORT.pack(len(frame)) if len(frame) <= 0x7FFFFFFF else _SHORT.pack(-1) + _LONG.pack(len(frame))
            if len(frame) <= _CHUNK:
                pending += (header, frame)
                continue
            self._write_all(memoryview(b"".join([*pending, header])), deadline)
            pending = []
            self._write_all(memoryview(frame), deadline)
        if pending:
            self._write_all(memoryview(b"".join(pending)), deadline)

    def receive(self, max_bytes: int, deadline: float | Deadline) -> bytes:
        """One whole frame of at most ``max_bytes``. Raises ChannelTimeout,
        ChannelClosed or FrameTooLarge (without reading the body)."""
        header = self._read_exactly(_SHORT.size, deadline, already=0)
        (length,) = _SHORT.unpack(header)
        got = len(header)
        if length == -1:
            length = _LONG.unpack(self._read_exactly(_LONG.size, deadline, already=got))[0]
            got += _LONG.size
        if length < 0 or length > max_bytes:
            raise FrameTooLarge(length)
        return self._read_exactly(length, deadline, already=got, expected=length)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._sock.close()

    def _read_exactly(self, size: int, deadline: float | Deadline, *, already: int,
                      expected: int | None = None) -> bytes:
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size:
            try:
                count = self._sock.recv_into(view[got:], min(size - got, _CHUNK))
            except (BlockingIOError, InterruptedError):
                self._wait(select.POLLIN, deadline, received=already + got, expected=expected)
                continue
            except OSError as error:
                raise ChannelClosed(already + got) from error
            if count == 0:
                raise ChannelClosed(already + got)
            got += count
        return bytes(buffer)

    def _write_all(self, data: memoryview, deadline: float | Deadline) -> None:
        sent = 0
        while sent < len(data):
            try:
                sent += self._sock.send(data[sent:sent + _CHUNK])
            except (BlockingIOError, InterruptedError):
                self._wait(select.POLLOUT, deadline, received=0)
            except OSError as error:
                if error.errno in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.EBADF):
                    raise ChannelClosed() from error
                raise

    def _wait(self, events: int, deadline: float | Deadline, *, received: int, expected: int | None = None) -> None:
        left = deadline - time.monotonic() if isinstance(deadline, float | int) else deadline.wait_s()
        if left <= 0:
            raise ChannelTimeout(received, expected)
        poller = select.poll()
        poller.register(self._sock.fileno(), events)
        poller.poll(max(1, int(left * 1000) + 1))
        # Whatever poll said (ready, hung up, or nothing by the deadline), the
        # next non-blocking call finds out; the deadline is checked again then.


def socket_pair() -> tuple[socket.socket, socket.socket]:
    """The grader's end and the sandbox's end of a new data socket."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
