"""sockc nc: netcat through sockd, against Python peers.

Payloads are random bytes compared with what the Python peer sent or got;
every wait has a deadline.
"""
import errno
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from cli import DAEMON, FAILED, OK, SOCKC, check_sanitizer, inet_text, \
    sockc, sockc_env, sockc_popen
from helpers import free_port, py_listener, read_to_eof
from varlink import wait_until

MIB = 1 << 20
DEADLINE = 20.0
NOBODY = 65534
SETPRIV = "/usr/bin/setpriv"

EAI_NAMES = {getattr(socket, n): n for n in dir(socket)
             if n.startswith("EAI_")}


class Pump:
    """Feeds bytes to a process's stdin and collects its stdout and
    stderr, each in a thread of its own."""

    def __init__(self, proc, data=None, close_stdin=True):
        self.proc = proc
        self.out = bytearray()
        self.err = bytearray()
        self.write_error = None
        self.threads = [threading.Thread(target=self._read,
                                         args=(proc.stdout, self.out)),
                        threading.Thread(target=self._read,
                                         args=(proc.stderr, self.err))]
        if data is not None:
            self.threads.append(threading.Thread(
                target=self._write, args=(data, close_stdin)))
        for t in self.threads:
            t.daemon = True
            t.start()

    @staticmethod
    def _read(f, buf):
        while True:
            b = f.read1(65536) if hasattr(f, "read1") else f.read(65536)
            if not b:
                return
            buf += b

    def _write(self, data, close):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            if close:
                self.proc.stdin.close()
        except (BrokenPipeError, ValueError) as e:
            self.write_error = e

    def close_stdin(self):
        self.proc.stdin.close()

    def finish(self, timeout=DEADLINE):
        """Wait for the exit: (rc, stdout bytes, stderr text)."""
        try:
            rc = self.proc.wait(timeout)
        except Exception:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(
                f"sockc nc did not exit within {timeout} s; stderr "
                f"{bytes(self.err).decode('utf-8', 'replace')!r}")
        for t in self.threads:
            t.join(timeout)
        err = bytes(self.err).decode("utf-8", "replace")
        check_sanitizer(err, "sockc nc")
        return rc, bytes(self.out), err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def procs():
    """Kills any nc left running by a failed test."""
    started = []
    yield started
    for p in started:
        p.kill()


def start_nc(procs, target, *args, data=None, close_stdin=True):
    p = Pump(sockc_popen(target, "nc", *args), data, close_stdin)
    procs.append(p)
    return p


def py_text(sa):
    return inet_text(sa[0], sa[1])


# -- nc HOST PORT ------------------------------------------------------------

def test_nc_connect_relays_and_half_closes(sockd, procs):
    up, down = os.urandom(MIB), os.urandom(MIB)
    lst = py_listener()
    port = lst.getsockname()[1]
    nc = start_nc(procs, sockd, "127.0.0.1", port, data=up)
    peer, _ = lst.accept()
    # stdin -> peer, then EOF: the half-close.
    assert read_to_eof(peer) == up
    # nc still waits for the other direction.
    time.sleep(0.05)
    assert nc.proc.poll() is None, "nc exited after its stdin ended"
    assert not nc.out
    peer.sendall(down)
    peer.close()
    rc, out, err = nc.finish()
    assert (rc, err) == (OK, "")
    assert out == down
    lst.close()


@pytest.mark.parametrize("family,host", [(socket.AF_INET6, "::1"),
                                         (socket.AF_INET, "localhost")],
                         ids=["inet6", "by-name"])
def test_nc_connect_full_duplex(sockd, procs, family, host):
    up, down = os.urandom(MIB), os.urandom(MIB)
    lst = socket.socket(family, socket.SOCK_STREAM)
    lst.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(DEADLINE)
    nc = start_nc(procs, sockd, "-v", host, lst.getsockname()[1], data=up)
    peer, _ = lst.accept()
    got = []
    reader = threading.Thread(target=lambda: got.append(read_to_eof(peer)))
    reader.start()
    peer.sendall(down)              # while nc is still sending
    reader.join(DEADLINE)
    assert got and got[0] == up
    peer.shutdown(socket.SHUT_WR)
    rc, out, err = nc.finish()
    assert rc == OK
    assert out == down
    # -v names the peer it reached, as Python sees its own listener.
    assert py_text(peer.getsockname()) in err
    peer.close()
    lst.close()


def test_nc_quit_after_stdin_ends(sockd, procs):
    """-q: after stdin ends, nc waits that long for a peer that never
    closes, relaying what comes meanwhile, then exits 0."""
    lst = py_listener()
    t0 = time.monotonic()
    nc = start_nc(procs, sockd, "-q", "0.5", "127.0.0.1",
                  lst.getsockname()[1], data=b"abc")
    peer, _ = lst.accept()
    assert read_to_eof(peer) == b"abc"
    peer.sendall(b"meanwhile")
    rc, out, err = nc.finish()
    elapsed = time.monotonic() - t0
    assert (rc, out, err) == (OK, b"meanwhile", "")
    assert 0.4 <= elapsed < 10
    peer.close()
    lst.close()


def test_nc_connect_refused(sockd, procs):
    closed = free_port()
    port = closed.getsockname()[1]
    rc, out, err = sockc(sockd, "nc", "127.0.0.1", port)
    assert (rc, out) == (FAILED, b"")
    assert err == f"sockc: connect: [Errno {errno.ECONNREFUSED}] " \
                  f"{os.strerror(errno.ECONNREFUSED)} (ECONNREFUSED)\n"
    closed.close()


def test_nc_unresolvable(sockd):
    host = "no-such-host.invalid"
    with pytest.raises(socket.gaierror) as ei:
        socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)
    rc, out, err = sockc(sockd, "nc", host, "80")
    assert (rc, out) == (FAILED, b"")
    assert f"[{EAI_NAMES[ei.value.errno]}]" in err
    # Nothing is left behind in sockd.
    with sockd.client() as c:
        assert c.call("io.sockd.List")["sockets"] == []


def test_nc_no_daemon(tmpdir_short):
    path = os.path.join(tmpdir_short, "nobody.sock")
    rc, out, err = sockc(path, "nc", "127.0.0.1", "9")
    assert (rc, out) == (DAEMON, b"")
    assert err == f"sockc: cannot reach sockd at {path}: " \
                  f"{os.strerror(errno.ENOENT)}\n"


def test_nc_leaves_no_handle(sockd, procs):
    lst = py_listener()
    nc = start_nc(procs, sockd, "127.0.0.1", lst.getsockname()[1],
                  data=b"x")
    peer, _ = lst.accept()
    assert read_to_eof(peer) == b"x"
    peer.close()
    assert nc.finish()[0] == OK
    with sockd.client() as c:
        assert c.call("io.sockd.List")["sockets"] == []
    lst.close()


# -- nc -l --------------------------------------------------------------------

def pick_port(family=socket.AF_INET, host="127.0.0.1",
              type_=socket.SOCK_STREAM):
    with socket.socket(family, type_) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def connect_retry(family, host, port, nc, deadline):
    """Connect until nc listens; None when nc exited first."""
    while time.monotonic() < deadline:
        if nc.proc.poll() is not None:
            return None
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(DEADLINE)
        try:
            s.connect((host, port))
            return s
        except ConnectionRefusedError:
            s.close()
            time.sleep(0.01)
    raise AssertionError(f"nc -l did not listen on port {port} in time")


def nc_listen(procs, d, spec_of_port, family, host, data, extra=()):
    """Start nc -l on a free port (retrying on EADDRINUSE) and connect a
    Python client: (nc, client)."""
    deadline = time.monotonic() + DEADLINE
    for _ in range(10):
        port = pick_port(family, host)
        nc = start_nc(procs, d, "-l", *extra, spec_of_port(port), data=data)
        cl = connect_retry(family, host, port, nc, deadline)
        if cl is not None:
            return nc, cl
        rc, _, err = nc.finish()
        assert rc == FAILED and "EADDRINUSE" in err, \
            f"nc -l exited {rc}: {err!r}"
    raise AssertionError("no free port for nc -l")


@pytest.mark.parametrize("family,host,spec", [
    (socket.AF_INET, "127.0.0.1", lambda p: f"127.0.0.1:{p}"),
    (socket.AF_INET6, "::1", lambda p: f"[::1]:{p}"),
    (socket.AF_INET, "127.0.0.1", lambda p: f"{p}"),
    (socket.AF_INET6, "::1", lambda p: f"*:{p}"),
], ids=["inet", "inet6", "every-address-v4", "every-address-v6"])
def test_nc_listen_relays_both_ways(sockd, procs, family, host, spec):
    up, down = os.urandom(MIB), os.urandom(MIB)
    nc, cl = nc_listen(procs, sockd, spec, family, host, data=down)
    got = []
    reader = threading.Thread(target=lambda: got.append(read_to_eof(cl)))
    reader.start()
    cl.sendall(up)
    cl.shutdown(socket.SHUT_WR)
    reader.join(DEADLINE)
    assert got and got[0] == down
    rc, out, err = nc.finish()
    assert (rc, err) == (OK, "")
    assert out == up
    cl.close()
    with sockd.client() as c:
        assert c.call("io.sockd.List")["sockets"] == []


def test_nc_listen_verbose_names_the_client(sockd, procs):
    nc, cl = nc_listen(procs, sockd, lambda p: f"127.0.0.1:{p}",
                       socket.AF_INET, "127.0.0.1", data=b"hi",
                       extra=("-v",))
    mine, theirs = cl.getsockname(), cl.getpeername()
    assert read_to_eof(cl) == b"hi"
    cl.close()
    rc, out, err = nc.finish()
    assert (rc, out) == (OK, b"")
    # -v: where it listens, and who connected, as Python sees both.
    assert py_text(theirs) in err
    assert py_text(mine) in err


# -- nc -u ------------------------------------------------------------------

def test_nc_udp_sends_and_relays_reply(sockd, procs):
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    py.bind(("127.0.0.1", 0))
    py.settimeout(DEADLINE)
    ping = b"\x00ping\xff" + os.urandom(1000)
    pong = b"\xffpong\x00" + os.urandom(2000)
    t0 = time.monotonic()
    nc = start_nc(procs, sockd, "-u", "-q", "1", "127.0.0.1",
                  py.getsockname()[1], data=ping)
    data, sender = py.recvfrom(65536)
    assert data == ping
    py.sendto(pong, sender)
    rc, out, err = nc.finish()
    assert (rc, err) == (OK, "")
    assert out == pong
    # -q 1 ended it, about a second after stdin ended.
    assert time.monotonic() - t0 < 10
    py.close()


def test_nc_udp_listen(sockd, procs):
    """nc -l -u: the first sender's datagram to stdout, stdin back to it."""
    reply = b"\x00reply" + os.urandom(500)
    deadline = time.monotonic() + DEADLINE
    nc = None
    for _ in range(10):
        port = pick_port(type_=socket.SOCK_DGRAM)
        nc = start_nc(procs, sockd, "-l", "-u", "-v", "-q", "1",
                      f"127.0.0.1:{port}", data=reply)
        # -v says when it listens; wait for that (or its exit).
        while time.monotonic() < deadline and b"listening" not in nc.err \
                and nc.proc.poll() is None:
            time.sleep(0.01)
        if b"listening" in nc.err:
            break
        rc, _, err = nc.finish()
        assert rc == FAILED and "EADDRINUSE" in err, err
    else:
        raise AssertionError("no free port for nc -l -u")
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    py.bind(("127.0.0.1", 0))
    py.settimeout(DEADLINE)
    hello = b"\xffhello" + os.urandom(700)
    py.sendto(hello, ("127.0.0.1", port))
    data, sender = py.recvfrom(65536)
    assert data == reply
    assert sender == ("127.0.0.1", port)
    rc, out, err = nc.finish()
    assert rc == OK
    assert out == hello
    assert py_text(py.getsockname()) in err     # -v: "datagram from"
    py.close()


# -- through Attach or calls, when the policy keeps the socket -------------

def nofd_daemon(start_sockd, tmpdir, socktype):
    """A sockd -v whose policy lets NOBODY make and connect socktype
    sockets on loopback, but not take them with FileNo."""
    assert os.path.exists(SETPRIV), "setpriv (util-linux) is needed"
    policy = os.path.join(tmpdir, "policy.json")
    with open(policy, "w") as f:
        json.dump({"rules": [{
            "name": "nc-no-fd", "users": [NOBODY], "families": ["AF_INET"],
            "types": [socktype], "connect": ["127.0.0.0/8:*"],
            "fileno": False}]}, f)
    return start_sockd("-v", "--policy", policy, tmpdir=tmpdir)


def test_nc_relays_through_attach_without_fileno(start_sockd, tmpdir_short,
                                                 procs):
    d = nofd_daemon(start_sockd, tmpdir_short, "SOCK_STREAM")
    up, down = os.urandom(MIB), os.urandom(MIB)
    lst = py_listener()
    proc = subprocess.Popen(
        [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}",
         "--clear-groups", SOCKC, "nc", "127.0.0.1",
         str(lst.getsockname()[1])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=sockc_env(d.path), close_fds=True)
    nc = Pump(proc, up)
    procs.append(nc)
    peer, _ = lst.accept()
    assert read_to_eof(peer) == up
    peer.sendall(down)
    peer.close()
    rc, out, err = nc.finish()
    assert (rc, err) == (OK, "")
    assert out == down
    # The daemon really refused the fd: the bytes went through the
    # connection upgraded by Attach.
    log = d.stderr()
    assert any("refused" in ln and "fileno" in ln.lower()
               for ln in log.splitlines()), log
    assert f"uid {NOBODY} pid " in log and " attached to handle " in log, \
        log
    lst.close()


def test_nc_udp_relays_through_calls_without_fileno(start_sockd,
                                                    tmpdir_short, procs):
    """Attach takes streams only: a datagram socket goes through Send and
    Recv calls."""
    d = nofd_daemon(start_sockd, tmpdir_short, "SOCK_DGRAM")
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    py.bind(("127.0.0.1", 0))
    py.settimeout(10)
    proc = subprocess.Popen(
        [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}",
         "--clear-groups", SOCKC, "nc", "-u", "-q", "1", "127.0.0.1",
         str(py.getsockname()[1])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=sockc_env(d.path), close_fds=True)
    nc = Pump(proc, b"ping\n", close_stdin=False)
    procs.append(nc)
    data, sender = py.recvfrom(65536)
    assert data == b"ping\n"
    py.sendto(b"pong\n", sender)
    wait_until(lambda: b"pong" in nc.out, timeout=10,
               what="the reply on nc's stdout")
    nc.close_stdin()
    rc, out, err = nc.finish()
    assert (rc, out) == (OK, b"pong\n"), err
    log = d.stderr()
    assert " attached to handle " not in log, log
    py.close()
