"""Shared helpers for the black-box tests."""
import errno
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from varlink import VarlinkError


def errno_names(num):
    """Every name the errno module has for num (EAGAIN/EWOULDBLOCK...)."""
    return {n for n in dir(errno)
            if n.startswith("E") and getattr(errno, n) == num}


def check_oserror(e, num):
    assert isinstance(e, VarlinkError), e
    assert e.error == "io.sockd.OSError", f"expected OSError, got {e}"
    assert e.params.get("errno") == num, \
        f"expected errno {num} ({errno.errorcode.get(num)}), got {e}"
    assert e.params.get("name") in errno_names(num), \
        f"errno name {e.params.get('name')!r} is not one of " \
        f"{errno_names(num)}"
    msg = e.params.get("message")
    assert isinstance(msg, str) and msg, f"no message in {e}"


def expect_oserror(num, fn, *args, **kw):
    """fn(*args, **kw) must fail with io.sockd.OSError num."""
    with pytest.raises(VarlinkError) as ei:
        fn(*args, **kw)
    check_oserror(ei.value, num)
    return ei.value


def expect_error(name, fn, *args, **kw):
    with pytest.raises(VarlinkError) as ei:
        fn(*args, **kw)
    assert ei.value.error == name, f"expected {name}, got {ei.value}"
    return ei.value


def expect_invalid(param, fn, *args, **kw):
    """fn must fail with InvalidParameter naming param (or one of them)."""
    e = expect_error("org.varlink.service.InvalidParameter", fn, *args, **kw)
    want = {param} if isinstance(param, str) else set(param)
    assert e.params.get("parameter") in want, \
        f"InvalidParameter names {e.params.get('parameter')!r}, " \
        f"expected {want}"
    return e


def py_errno(fn, *args):
    """The errno Python's own socket module gets for the same operation."""
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    raise AssertionError(f"{fn} unexpectedly succeeded in Python")


def family_name(fam):
    return socket.AddressFamily(fam).name


def type_name(t):
    return socket.SocketKind(t).name


def inet_addr(host, port):
    return {"host": host, "port": port}


def addr_tuple(a):
    """(host, port) of an address dict from sockd."""
    return (a["host"], a["port"])


def py_listener(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(16)
    s.settimeout(10)
    return s


def free_port(family=socket.AF_INET, host="127.0.0.1",
              type_=socket.SOCK_STREAM):
    """A socket bound to a port nobody listens on (keep it open)."""
    s = socket.socket(family, type_)
    s.bind((host, 0))
    return s


def new_socket(c, family="AF_INET", type_="SOCK_STREAM", **kw):
    params = {"family": family, "type": type_}
    params.update(kw)
    h = c.call("io.sockd.Socket", params)["handle"]
    assert isinstance(h, int) and not isinstance(h, bool) and h > 0, h
    return h


def d_listener(c, family="AF_INET", host="127.0.0.1", **kw):
    """A listening TCP handle in sockd on an ephemeral port."""
    h = new_socket(c, family, "SOCK_STREAM", **kw)
    c.call("io.sockd.Bind", {"handle": h, "address": inet_addr(host, 0)})
    c.call("io.sockd.Listen", {"handle": h})
    addr = c.call("io.sockd.GetSockName", {"handle": h})["address"]
    return h, addr


def d_connected(c, family=socket.AF_INET, host="127.0.0.1", **kw):
    """A sockd TCP handle connected to a Python peer: (handle, peer)."""
    lst = py_listener(family, host)
    fam = family_name(family)
    h = new_socket(c, fam, "SOCK_STREAM", **kw)
    port = lst.getsockname()[1]
    c.call("io.sockd.Connect", {"handle": h,
                                "address": inet_addr(host, port)})
    peer, _ = lst.accept()
    peer.settimeout(10)
    lst.close()
    return h, peer


def recv_exact_py(sock, n, timeout=20):
    """Read exactly n bytes (or until EOF) from a Python socket."""
    sock.settimeout(timeout)
    chunks = []
    got = 0
    while got < n:
        b = sock.recv(min(1 << 20, n - got))
        if not b:
            break
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def d_recv_exact(c, h, n, bufsize=65536):
    """Recv through sockd until n bytes (or EOF)."""
    from varlink import unb64
    out = bytearray()
    while len(out) < n:
        data = unb64(c.call("io.sockd.Recv",
                            {"handle": h, "bufsize": min(bufsize,
                                                         n - len(out))})
                     ["data"])
        if not data:
            break
        out += data
    return bytes(out)


def peer_eof(sock, timeout=5.0):
    """True when the Python socket sees EOF (or reset) within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            b = sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        if not b:
            return True
    return False


def read_to_eof(sock, timeout=20):
    """Everything sock receives until the peer's EOF."""
    sock.settimeout(timeout)
    out = bytearray()
    while True:
        b = sock.recv(1 << 20)
        if not b:
            return bytes(out)
        out += b


def connect_refused(port, family=socket.AF_INET, host="127.0.0.1"):
    """True when a TCP connect to port is refused."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((host, port))
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        # Caught the listener as it closed: it was still there.
        return False
    finally:
        s.close()
    return False


def tcp_connect(port, family=socket.AF_INET, host="127.0.0.1"):
    s = socket.create_connection((host, port), timeout=10) \
        if family == socket.AF_INET else None
    if s is None:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((host, port))
    return s


def unique(prefix):
    return f"{prefix}-{os.getpid()}-{time.monotonic_ns()}"


# Other uids run /usr/bin/python3: the python3 first on PATH may live where
# they cannot reach it.
PYTHON = "/usr/bin/python3"
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))

# A client for another uid: makes the calls in argv[3] on one connection
# and prints each reply or error as JSON.
AS_UID_CLIENT = r"""
import json, sys
sys.path.insert(0, sys.argv[2])
from varlink import Client, VarlinkError
c = Client(sys.argv[1])
out = []
for method, params in json.loads(sys.argv[3]):
    try:
        out.append({"ok": c.call(method, params)})
    except VarlinkError as e:
        out.append({"error": e.error, "parameters": e.params})
print(json.dumps(out))
"""


def setpriv(uid):
    """The command prefix that runs a program as uid (and gid uid)."""
    path = shutil.which("setpriv")
    assert path, "setpriv (util-linux) is needed"
    return [path, f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


def run_as(uid, path, calls):
    """Calls [method, params] on one connection of uid to the daemon at
    path: each one's {"ok": reply} or {"error", "parameters"}."""
    p = subprocess.run([*setpriv(uid), PYTHON, "-c", AS_UID_CLIENT, path,
                        TESTS_DIR, json.dumps(calls)],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)
