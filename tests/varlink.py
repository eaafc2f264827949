"""A small varlink client for the black-box tests (standard library only).

Every message is one JSON object followed by a NUL byte. File descriptors
arrive as SCM_RIGHTS ancillary data attached to the first byte of the
message they belong to.
"""
import array
import base64
import json
import os
import select
import socket
import time

DEFAULT_TIMEOUT = 10.0
MAX_FDS = 16


class VarlinkError(Exception):
    """An error reply: .error is the error name, .params its parameters."""

    def __init__(self, error, params):
        self.error = error
        self.params = params if params is not None else {}
        super().__init__(f"{error} {json.dumps(self.params)}")


class ConnectionClosed(Exception):
    """The daemon closed the connection before a whole message arrived."""


def b64(data):
    return base64.b64encode(bytes(data)).decode("ascii")


def unb64(text):
    return base64.b64decode(text.encode("ascii"), validate=True)


def encode(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8") + b"\0"


def call_message(method, params=None, *, oneway=False, more=False,
                 upgrade=False):
    msg = {"method": method}
    if params is not None:
        msg["parameters"] = params
    if oneway:
        msg["oneway"] = True
    if more:
        msg["more"] = True
    if upgrade:
        msg["upgrade"] = True
    return encode(msg)


def wait_until(cond, timeout=5.0, interval=0.01, what="condition"):
    """Poll cond() until it returns a true value; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for "
                                 f"{what}")
        time.sleep(interval)


class Client:
    """One varlink connection."""

    def __init__(self, path, timeout=DEFAULT_TIMEOUT):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX,
                                  socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self._buf = bytearray()
        self._base = 0          # stream offset of _buf[0]
        self._fds = []          # (stream offset, [fds]) not yet handed out
        self.fd_offsets = []    # stream offsets of every fd arrival seen
        self.msg_starts = [0]   # stream offsets where messages begin
        self.eof = False

    # -- plumbing ---------------------------------------------------------

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        for _, fds in self._fds:
            for fd in fds:
                os.close(fd)
        self._fds = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        return self.sock.fileno()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_call(self, method, params=None, **flags):
        self.send_raw(call_message(method, params, **flags))

    def _read_some(self, deadline, bytewise=False):
        """One recvmsg: returns False at EOF."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no message from sockd before the deadline")
        r, _, _ = select.select([self.sock], [], [], remaining)
        if not r:
            raise TimeoutError("no message from sockd before the deadline")
        size = 1 if bytewise else 65536
        data, ancdata, flags, _ = self.sock.recvmsg(
            size, socket.CMSG_SPACE(MAX_FDS * array.array("i").itemsize),
            socket.MSG_CMSG_CLOEXEC)
        offset = self._base + len(self._buf)
        fds = []
        for level, type_, cdata in ancdata:
            if level == socket.SOL_SOCKET and type_ == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(cdata[:len(cdata) - len(cdata) % a.itemsize])
                fds.extend(a)
        if flags & socket.MSG_CTRUNC:
            for fd in fds:
                os.close(fd)
            raise AssertionError("control data truncated (MSG_CTRUNC)")
        if not data:
            self.eof = True
            for fd in fds:
                os.close(fd)
            return False
        # Remember where messages start, to attribute fds to messages.
        start = len(self._buf)
        self._buf += data
        for i in range(start, len(self._buf)):
            if self._buf[i] == 0:
                self.msg_starts.append(self._base + i + 1)
        if fds:
            if bytewise:
                owner = offset
            else:
                # The kernel stops a read right after the skb that carried
                # the fds, and they belong to the message that starts last
                # in this chunk (or the one in progress).
                owner = max([s for s in self.msg_starts
                             if s < offset + len(data)])
            self._fds.append((owner, fds))
            self.fd_offsets.append(offset)
        return True

    def _take_message(self):
        i = self._buf.find(b"\0")
        if i < 0:
            return None
        start = self._base
        raw = bytes(self._buf[:i])
        del self._buf[:i + 1]
        self._base += i + 1
        end = self._base
        fds = []
        keep = []
        for owner, f in self._fds:
            if start <= owner < end:
                fds.extend(f)
            else:
                keep.append((owner, f))
        self._fds = keep
        return raw, fds, start

    def recv_raw(self, timeout=None, bytewise=False):
        """One message as (raw bytes without the NUL, fds, stream offset)."""
        deadline = time.monotonic() + (self.timeout if timeout is None
                                       else timeout)
        while True:
            m = self._take_message()
            if m is not None:
                return m
            if self.eof or not self._read_some(deadline, bytewise):
                raise ConnectionClosed(
                    "connection closed by sockd"
                    + (f" with {len(self._buf)} bytes of a partial message"
                       if self._buf else ""))

    def recv_msg_fds(self, timeout=None, bytewise=False):
        """One message parsed as JSON, and the fds that came with it."""
        raw, fds, _ = self.recv_raw(timeout, bytewise)
        try:
            msg = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            for fd in fds:
                os.close(fd)
            raise AssertionError(f"sockd sent a bad message {raw[:200]!r}: "
                                 f"{e}") from None
        if not isinstance(msg, dict):
            raise AssertionError(f"sockd sent a non-object message {msg!r}")
        return msg, fds

    def recv_msg(self, timeout=None, bytewise=False):
        """One message parsed as JSON; fails if fds came with it."""
        msg, fds = self.recv_msg_fds(timeout, bytewise)
        for fd in fds:
            os.close(fd)
        assert not fds, f"unexpected fds with message {msg!r}"
        return msg

    def pending(self, timeout=0.0):
        """True when a whole message or EOF is available within timeout."""
        if self._buf.find(b"\0") >= 0 or self.eof:
            return True
        r, _, _ = select.select([self.sock], [], [], timeout)
        return bool(r)

    def wait_closed(self, timeout=5.0):
        """Read until EOF; returns the messages that came before it."""
        deadline = time.monotonic() + timeout
        msgs = []
        while True:
            m = self._take_message()
            if m is not None:
                msgs.append(json.loads(m[0].decode("utf-8", "replace")))
                continue
            if self.eof:
                return msgs
            try:
                if not self._read_some(deadline):
                    return msgs
            except ConnectionResetError:
                return msgs

    # -- calls -----------------------------------------------------------

    @staticmethod
    def result(msg):
        """The parameters of a reply, or raise its error."""
        if "error" in msg:
            raise VarlinkError(msg["error"], msg.get("parameters"))
        params = msg.get("parameters")
        return {} if params is None else params

    def call_fds(self, method, params=None, *, more=False, timeout=None,
                 bytewise=False):
        self.send_call(method, params, more=more)
        msg, fds = self.recv_msg_fds(timeout, bytewise)
        if "error" in msg:
            for fd in fds:
                os.close(fd)
        return self.result(msg), fds

    def call(self, method, params=None, *, oneway=False, more=False,
             timeout=None):
        self.send_call(method, params, oneway=oneway, more=more)
        if oneway:
            return None
        msg = self.recv_msg(timeout)
        if more:
            assert not msg.get("continues"), \
                f"reply to a more call on a plain method continues: {msg!r}"
        return self.result(msg)

    def __getattr__(self, name):
        """c.Socket(family=...) is c.call("io.sockd.Socket", {...})."""
        if name[:1].isupper():
            def method(**params):
                return self.call("io.sockd." + name, params)
            return method
        raise AttributeError(name)
