"""A notify socket that plays systemd's side of sd_notify(3).

A thread reads every datagram as it arrives (sockd must never block on a
full queue: Linux keeps only net.unix.max_dgram_qlen datagrams, 10 by
default) and keeps it with its arrival time and any fds it carried. Fds
are closed at once unless keep_fds is set; the fd-store harness keeps them.
"""
import array
import os
import socket
import threading
import time

MAX_FDS = 64


class Notification:
    """One datagram: .time (monotonic), .text, .fields (dict), .fds."""

    def __init__(self, when, text, fds):
        self.time = when
        self.text = text
        self.fds = fds
        self.fields = {}
        for line in text.split("\n"):
            if "=" in line:
                key, value = line.split("=", 1)
                self.fields[key] = value

    def __repr__(self):
        return f"Notification({self.text!r}, fds={self.fds})"


class NotifyListener:
    def __init__(self, path, keep_fds=False):
        self.path = path
        self.keep_fds = keep_fds
        self.messages = []
        self.cond = threading.Condition()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM
                                  | socket.SOCK_CLOEXEC)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.settimeout(0.1)
        self.closing = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        fdsize = array.array("i").itemsize
        while not self.closing:
            try:
                data, anc, _, _ = self.sock.recvmsg(
                    65536, socket.CMSG_SPACE(MAX_FDS * fdsize))
            except socket.timeout:
                continue
            except OSError:
                return
            fds = []
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    a = array.array("i")
                    a.frombytes(payload[:len(payload) - len(payload)
                                        % fdsize])
                    fds.extend(a)
            for fd in fds:
                os.set_inheritable(fd, False)
            if not self.keep_fds:
                for fd in fds:
                    os.close(fd)
                fds = []
            n = Notification(time.monotonic(),
                             data.decode("utf-8", "replace"), fds)
            with self.cond:
                self.messages.append(n)
                self.cond.notify_all()

    def snapshot(self):
        with self.cond:
            return list(self.messages)

    def texts(self):
        return [n.text for n in self.snapshot()]

    def has_line(self, line, since=0):
        return any(line in n.text.split("\n")
                   for n in self.snapshot()[since:])

    def wait_for(self, pred, timeout=10.0, what="a notification"):
        """Wait until pred(notification) holds for one that arrived;
        return it."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                for n in self.messages[seen:]:
                    if pred(n):
                        return n
                seen = len(self.messages)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no {what} within {timeout} s; got "
                        f"{[m.text for m in self.messages]}")
                self.cond.wait(left)

    def wait_count(self, count, timeout):
        """Wait up to timeout for count datagrams in all; True if so."""
        with self.cond:
            return self.cond.wait_for(lambda: len(self.messages) >= count,
                                      timeout)

    def wait_line(self, line, timeout=10.0, since=0):
        """Wait for a datagram with this line, among those from index
        since on; return it."""
        def match(n):
            with self.cond:
                index = self.messages.index(n)
            return index >= since and line in n.text.split("\n")
        return self.wait_for(match, timeout, what=repr(line))

    def close(self):
        self.closing = True
        self.thread.join(5)
        self.sock.close()
