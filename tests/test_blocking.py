"""Timeouts and waiting: Python's blocking model, and a waiting call holds
up only its own connection."""
import errno
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import TESTS
from helpers import (check_oserror, connect_refused, d_connected,
                     d_listener, expect_error, expect_invalid, expect_oserror,
                     new_socket, peer_eof, recv_exact_py, tcp_connect)
from varlink import VarlinkError, b64, unb64, wait_until


def call(c, method, **params):
    return c.call("io.sockd." + method, params)


def timed(fn, *args, **kw):
    t0 = time.monotonic()
    try:
        return fn(*args, **kw), time.monotonic() - t0
    except Exception as e:
        e.elapsed = time.monotonic() - t0
        raise


def test_default_timeout_is_blocking(sockd):
    c = sockd.client()
    h = new_socket(c)
    assert call(c, "GetTimeout", handle=h) == {"timeout": None}


def test_set_and_get_timeout(sockd):
    c = sockd.client()
    h = new_socket(c)
    assert call(c, "SetTimeout", handle=h, timeout=2.5) == {}
    assert call(c, "GetTimeout", handle=h)["timeout"] == 2.5
    call(c, "SetTimeout", handle=h, timeout=0)
    assert call(c, "GetTimeout", handle=h)["timeout"] == 0
    call(c, "SetTimeout", handle=h, timeout=0.001)
    assert call(c, "GetTimeout", handle=h)["timeout"] == 0.001
    call(c, "SetTimeout", handle=h, timeout=None)
    assert call(c, "GetTimeout", handle=h)["timeout"] is None
    call(c, "SetTimeout", handle=h, timeout=3)  # an int is a float too
    assert call(c, "GetTimeout", handle=h)["timeout"] == 3


def test_negative_timeout_is_refused(sockd):
    c = sockd.client()
    h = new_socket(c)
    with pytest.raises(ValueError):
        socket.socket().settimeout(-1)
    with pytest.raises(Exception) as ei:
        call(c, "SetTimeout", handle=h, timeout=-1.0)
    e = ei.value
    assert (e.error, e.params.get("parameter")) == \
        ("org.varlink.service.InvalidParameter", "timeout") or \
        (e.error, e.params.get("errno")) == ("io.sockd.OSError",
                                             errno.EINVAL), e
    assert call(c, "GetTimeout", handle=h)["timeout"] is None


def test_set_blocking(sockd):
    c = sockd.client()
    h = new_socket(c)
    py = socket.socket()
    py.setblocking(False)
    assert call(c, "SetBlocking", handle=h, blocking=False) == {}
    assert call(c, "GetTimeout", handle=h)["timeout"] == py.gettimeout()
    py.setblocking(True)
    call(c, "SetBlocking", handle=h, blocking=True)
    assert call(c, "GetTimeout", handle=h)["timeout"] is py.gettimeout()
    py.close()


def test_recv_timeout(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    call(c, "SetTimeout", handle=h, timeout=0.3)
    with pytest.raises(Exception) as ei:
        timed(call, c, "Recv", handle=h, bufsize=10)
    e = ei.value
    assert e.error == "io.sockd.Timeout", e
    assert isinstance(e.params.get("message"), str) and e.params["message"]
    assert 0.25 <= e.elapsed < 5
    # Data that comes later is still there, and the handle still works.
    peer.sendall(b"late")
    assert unb64(call(c, "Recv", handle=h, bufsize=10)["data"]) == b"late"
    peer.close()


def test_accept_timeout(sockd):
    c = sockd.client()
    h, _ = d_listener(c)
    call(c, "SetTimeout", handle=h, timeout=0.2)
    with pytest.raises(Exception) as ei:
        timed(call, c, "Accept", handle=h)
    assert ei.value.error == "io.sockd.Timeout"
    assert 0.15 <= ei.value.elapsed < 5


def test_nonblocking_recv_and_accept_eagain(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    call(c, "SetBlocking", handle=h, blocking=False)
    _, t = timed(expect_oserror, errno.EAGAIN, call, c, "Recv", handle=h,
                 bufsize=10)
    assert t < 2
    expect_oserror(errno.EAGAIN, call, c, "RecvFrom", handle=h, bufsize=10)
    lst, _ = d_listener(c)
    call(c, "SetTimeout", handle=lst, timeout=0)
    expect_oserror(errno.EAGAIN, call, c, "Accept", handle=lst)
    peer.close()


def test_msg_dontwait_on_a_blocking_handle(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    py_a, py_b = socket.socketpair()
    with pytest.raises(BlockingIOError):
        py_a.recv(10, socket.MSG_DONTWAIT)
    py_a.close()
    py_b.close()
    c.send_call("io.sockd.Recv", {"handle": h, "bufsize": 10,
                                  "flags": ["MSG_DONTWAIT"]})
    try:
        msg = c.recv_msg(timeout=3)
    except TimeoutError:
        raise AssertionError("Recv with MSG_DONTWAIT waited for data")
    with pytest.raises(VarlinkError) as ei:
        c.result(msg)
    check_oserror(ei.value, errno.EAGAIN)
    peer.close()


def test_nonblocking_connect_einprogress(sockd):
    c = sockd.client()
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen()
    lst.settimeout(10)
    h = new_socket(c)
    call(c, "SetTimeout", handle=h, timeout=0)
    expect_oserror(errno.EINPROGRESS, call, c, "Connect", handle=h,
                   address={"host": "127.0.0.1",
                            "port": lst.getsockname()[1]})
    items = call(c, "Poll", items=[{"handle": h, "events": ["POLLOUT"]}],
                 timeout=5)["items"]
    assert items and items[0]["handle"] == h and \
        "POLLOUT" in items[0]["events"]
    assert call(c, "GetSockOpt", handle=h, level="SOL_SOCKET",
                option="SO_ERROR")["value"] == 0
    conn, raddr = lst.accept()
    assert call(c, "GetSockName", handle=h)["address"]["port"] == raddr[1]
    conn.close()
    lst.close()


def test_send_timeout_when_peer_does_not_read(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    call(c, "SetTimeout", handle=h, timeout=0.3)
    big = b64(os.urandom(8 << 20))
    with pytest.raises(Exception) as ei:
        timed(call, c, "SendAll", handle=h, data=big)
    assert ei.value.error == "io.sockd.Timeout", ei.value
    assert ei.value.elapsed < 10
    peer.close()


def test_nonblocking_send_fills_up_with_eagain(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    call(c, "SetBlocking", handle=h, blocking=False)
    chunk = b64(os.urandom(1 << 18))
    total = 0
    for _ in range(400):
        try:
            total += call(c, "Send", handle=h, data=chunk)["sent"]
        except VarlinkError as e:
            check_oserror(e, errno.EAGAIN)
            break
    else:
        raise AssertionError("100 MiB went into a socket nobody reads")
    assert total > 0
    peer.close()


def test_blocked_call_holds_only_its_connection(sockd):
    a = sockd.client()
    b = sockd.client()
    h, peer = d_connected(a)
    a.send_call("io.sockd.Recv", {"handle": h, "bufsize": 100})
    a.send_call("org.varlink.service.GetInfo")
    # Other connections are served promptly meanwhile.
    for _ in range(20):
        _, t = timed(b.call, "org.varlink.service.GetInfo")
        assert t < 1
    x = new_socket(b)
    _, t = timed(call, b, "GetSockName", handle=h)
    assert t < 1
    assert call(b, "Close", handle=x) == {}
    # The same connection waits: nothing arrives until data does.
    assert not a.pending(0.3)
    peer.sendall(b"wake up")
    first = a.recv_msg()
    assert unb64(first["parameters"]["data"]) == b"wake up"
    second = a.recv_msg()
    assert "io.sockd" in second["parameters"]["interfaces"]
    peer.close()


def test_blocked_accept_wakes_on_connection(sockd):
    c = sockd.client()
    h, addr = d_listener(c)
    c.send_call("io.sockd.Accept", {"handle": h})
    assert not c.pending(0.2)
    peer = tcp_connect(addr["port"])
    acc = c.result(c.recv_msg())
    assert acc["address"]["port"] == peer.getsockname()[1]
    peer.close()


def test_blocked_connect_to_itself_waits_for_nothing(sockd):
    # Connect with a timeout completes at once on loopback.
    c = sockd.client()
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen()
    h = new_socket(c)
    call(c, "SetTimeout", handle=h, timeout=5)
    _, t = timed(call, c, "Connect", handle=h,
                 address={"host": "127.0.0.1", "port": lst.getsockname()[1]})
    assert t < 2
    lst.close()


def test_disconnect_cancels_a_waiting_recv(sockd):
    a = sockd.client()
    b = sockd.client()
    h, peer = d_connected(a)
    a.send_call("io.sockd.Recv", {"handle": h, "bufsize": 100})
    assert not a.pending(0.1)
    a.close()
    # The scoped socket closes with the connection...
    assert peer_eof(peer)
    # ...and data arriving on the old socket disturbs nobody.
    try:
        peer.sendall(b"anyone there?")
    except OSError:
        pass
    peer.close()
    assert "io.sockd" in b.call("org.varlink.service.GetInfo")["interfaces"]
    assert b.call("io.sockd.List")["sockets"] == []


def test_disconnect_cancels_a_waiting_recv_on_persistent_handle(sockd):
    a = sockd.client()
    h, peer = d_connected(a, persistent=True)
    a.send_call("io.sockd.Recv", {"handle": h, "bufsize": 100})
    assert not a.pending(0.1)
    a.close()
    b = sockd.client()
    # The handle lives on; the cancelled Recv must not eat this data.
    wait_until(lambda: b.call("io.sockd.List")["sockets"],
               what="the persistent handle in List")
    peer.sendall(b"for the next reader")
    b.call("io.sockd.SetTimeout", {"handle": h, "timeout": 5})
    got = b""
    while len(got) < 19:
        got += unb64(call(b, "Recv", handle=h, bufsize=100)["data"])
    assert got == b"for the next reader"
    peer.close()


KILLED_CLIENT = r"""
import sys
sys.path.insert(0, sys.argv[2])
from varlink import Client
c = Client(sys.argv[1])
h = c.Socket(family="AF_INET", type="SOCK_STREAM")["handle"]
c.Bind(handle=h, address={"host": "127.0.0.1", "port": 0})
c.Listen(handle=h)
port = c.call("io.sockd.GetSockName", {"handle": h})["address"]["port"]
c.send_call("io.sockd.Accept", {"handle": h})
print(port, flush=True)
sys.stdin.read()
"""


def test_client_killed_during_waiting_call(sockd):
    p = subprocess.Popen([sys.executable, "-c", KILLED_CLIENT, sockd.path,
                          TESTS], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    try:
        line = p.stdout.readline()
        port = int(line)
        assert not connect_refused(port)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdin.close()
        p.stdout.close()
    wait_until(lambda: connect_refused(port),
               what="the killed client's listener to close")
    c = sockd.client()
    assert "io.sockd" in c.call("org.varlink.service.GetInfo")["interfaces"]
    assert sockd.proc.poll() is None


def test_timeout_on_one_handle_does_not_affect_another(sockd):
    c = sockd.client()
    h1, p1 = d_connected(c)
    h2, p2 = d_connected(c)
    call(c, "SetTimeout", handle=h1, timeout=0.1)
    expect_error("io.sockd.Timeout", call, c, "Recv", handle=h1, bufsize=1)
    assert call(c, "GetTimeout", handle=h2)["timeout"] is None
    p2.sendall(b"ok")
    call(c, "SendAll", handle=h2, data=b64(b"pong"))
    assert recv_exact_py(p2, 4) == b"pong"
    p1.close()
    p2.close()


def test_zero_bufsize_and_negative_bufsize(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    py = socket.socket()
    with pytest.raises(ValueError):
        py.recv(-1)
    py.close()
    with pytest.raises(Exception) as ei:
        call(c, "Recv", handle=h, bufsize=-1)
    e = ei.value
    assert (e.error, e.params.get("parameter")) == \
        ("org.varlink.service.InvalidParameter", "bufsize") or \
        (e.error, e.params.get("errno")) == ("io.sockd.OSError",
                                             errno.EINVAL), e
    peer.close()


def test_invalid_timeout_type(sockd):
    c = sockd.client()
    h = new_socket(c)
    expect_invalid("timeout", call, c, "SetTimeout", handle=h,
                   timeout=[1])


def test_close_by_another_connection_ends_a_waiting_recv(sockd):
    a = sockd.client()
    b = sockd.client()
    h, peer = d_connected(a, persistent=True)
    b.send_call("io.sockd.Recv", {"handle": h, "bufsize": 10})
    assert not b.pending(0.2)
    assert call(a, "Close", handle=h) == {}
    # The waiting call cannot wait for a socket that is gone.
    try:
        msg = b.recv_msg(timeout=5)
    except TimeoutError:
        raise AssertionError("Recv still waits on a closed handle")
    assert msg.get("error") == "io.sockd.OSError", msg
    assert peer_eof(peer)
    peer.close()
    assert "io.sockd" in b.call("org.varlink.service.GetInfo")["interfaces"]


def test_detach_by_another_connection_ends_a_waiting_accept(sockd):
    a = sockd.client()
    b = sockd.client()
    h, addr = d_listener(a)
    b.send_call("io.sockd.Accept", {"handle": h})
    assert not b.pending(0.2)
    _, fds = a.call_fds("io.sockd.FileNo", {"handle": h, "detach": True})
    assert len(fds) == 1
    try:
        msg = b.recv_msg(timeout=5)
    except TimeoutError:
        raise AssertionError("Accept still waits on a detached handle")
    assert msg.get("error") == "io.sockd.OSError", msg
    # The connection goes to the fd's new owner, not to a stale call.
    lst = socket.socket(fileno=fds[0])
    lst.settimeout(10)
    peer = tcp_connect(addr["port"])
    conn, raddr = lst.accept()
    assert raddr == peer.getsockname()
    for s in (conn, peer, lst):
        s.close()


def test_owner_disconnect_ends_anothers_waiting_recv(sockd):
    a = sockd.client()
    b = sockd.client()
    h, peer = d_connected(a)          # scoped to a
    b.send_call("io.sockd.Recv", {"handle": h, "bufsize": 10})
    assert not b.pending(0.2)
    a.close()
    try:
        msg = b.recv_msg(timeout=5)
    except TimeoutError:
        raise AssertionError("Recv still waits on a handle closed by its "
                             "connection's end")
    assert msg.get("error") == "io.sockd.OSError", msg
    peer.close()


def test_huge_timeout_still_waits(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    call(c, "SetTimeout", handle=h, timeout=1e12)
    assert call(c, "GetTimeout", handle=h)["timeout"] == 1e12
    c.send_call("io.sockd.Recv", {"handle": h, "bufsize": 10})
    assert not c.pending(0.3), "a huge timeout expired at once"
    peer.sendall(b"x")
    assert unb64(c.result(c.recv_msg())["data"]) == b"x"
    peer.close()


def test_tiny_timeout_is_a_timeout_not_eagain(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    call(c, "SetTimeout", handle=h, timeout=1e-6)
    expect_error("io.sockd.Timeout", call, c, "Recv", handle=h, bufsize=10)
    peer.close()


def test_timeout_float_is_exact(sockd):
    c = sockd.client()
    h = new_socket(c)
    for t in (0.1, 0.3, 1.7, 123.456):
        call(c, "SetTimeout", handle=h, timeout=t)
        assert call(c, "GetTimeout", handle=h)["timeout"] == t


def test_recv_zero_bytes_returns_at_once(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    # A blocking TCP socket in Python (and the kernel) returns b"" at once.
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen()
    a = socket.create_connection(lst.getsockname())
    b, _ = lst.accept()
    a.settimeout(None)
    assert a.recv(0) == b""
    for s in (a, b, lst):
        s.close()
    c.send_call("io.sockd.Recv", {"handle": h, "bufsize": 0})
    try:
        msg = c.recv_msg(timeout=3)
    except TimeoutError:
        raise AssertionError("Recv of 0 bytes waited")
    assert c.result(msg) == {"data": ""}
    peer.close()


def test_connect_timeout(sockd):
    # A listener whose accept queue is full drops SYNs: connect waits.
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    fillers = []
    for _ in range(16):
        s = socket.socket()
        s.settimeout(0.3)
        try:
            s.connect(lst.getsockname())
        except socket.timeout:
            s.close()
            break
        fillers.append(s)
    else:
        raise AssertionError("could not fill the accept queue")
    c = sockd.client()
    h = new_socket(c)
    call(c, "SetTimeout", handle=h, timeout=0.3)
    with pytest.raises(VarlinkError) as ei:
        timed(call, c, "Connect", handle=h,
              address={"host": "127.0.0.1", "port": lst.getsockname()[1]})
    assert ei.value.error == "io.sockd.Timeout", ei.value
    assert 0.25 <= ei.value.elapsed < 5
    for s in fillers + [lst]:
        s.close()


def test_poll_without_items_sleeps(sockd):
    c = sockd.client()
    _, t = timed(c.call, "io.sockd.Poll", {"items": [], "timeout": 0.2})
    assert 0.15 <= t < 5
