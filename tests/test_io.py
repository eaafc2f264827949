"""Data through sockd: Send/SendAll/SendTo/Recv/RecvFrom over TCP, UDP,
UDP on ::1 and Unix sockets, against Python peers."""
import errno
import os
import socket
import struct
import threading

import pytest

from helpers import (d_connected, d_listener, d_recv_exact, expect_oserror,
                     new_socket, py_errno, recv_exact_py, tcp_connect,
                     unique)
from varlink import b64, unb64

MiB = 1 << 20


def call(c, method, **params):
    return c.call("io.sockd." + method, params)


def recv(c, h, n, flags=None):
    p = {"handle": h, "bufsize": n}
    if flags is not None:
        p["flags"] = flags
    return unb64(c.call("io.sockd.Recv", p)["data"])


def test_tcp_send_recv(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    assert call(c, "Send", handle=h, data=b64(b"hello"))["sent"] == 5
    assert recv_exact_py(peer, 5) == b"hello"
    payload = bytes(range(256))
    peer.sendall(payload)
    assert d_recv_exact(c, h, 256) == payload
    peer.close()
    assert recv(c, h, 100) == b""


def test_recv_bufsize_limits_the_read(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    peer.sendall(b"0123456789")
    first = recv(c, h, 4)
    assert first == b"0123"[:len(first)] and 1 <= len(first) <= 4
    rest = d_recv_exact(c, h, 10 - len(first))
    assert first + rest == b"0123456789"
    peer.close()


def test_msg_peek(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    peer.sendall(b"peekaboo")
    # Wait for all of it with repeated peeks: they never consume.
    seen = b""
    for _ in range(100):
        seen = recv(c, h, 100, ["MSG_PEEK"])
        if seen == b"peekaboo":
            break
    assert seen == b"peekaboo"
    assert recv(c, h, 100, ["MSG_PEEK"]) == b"peekaboo"
    assert d_recv_exact(c, h, 8) == b"peekaboo"
    peer.close()


def test_sendall_1mib_to_python(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    payload = os.urandom(MiB)
    got = {}

    def reader():
        got["data"] = recv_exact_py(peer, MiB)
    t = threading.Thread(target=reader)
    t.start()
    assert call(c, "SendAll", handle=h, data=b64(payload)) == {}
    t.join(30)
    assert not t.is_alive()
    assert got["data"] == payload
    peer.close()


def test_recv_1mib_from_python(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    payload = os.urandom(MiB)
    t = threading.Thread(target=peer.sendall, args=(payload,))
    t.start()
    assert d_recv_exact(c, h, MiB) == payload
    t.join(30)
    peer.shutdown(socket.SHUT_WR)
    assert recv(c, h, 10) == b""
    peer.close()


def test_1mib_both_ways_between_two_handles(sockd):
    # Writer and reader on two connections: each waits only for itself.
    a = sockd.client()
    b = sockd.client()
    lst, addr = d_listener(a)
    ha = new_socket(a)
    call(a, "Connect", handle=ha, address={"host": "127.0.0.1",
                                           "port": addr["port"]})
    hb = call(b, "Accept", handle=lst)["handle"]
    for src, dst, hs, hd in ((a, b, ha, hb), (b, a, hb, ha)):
        payload = os.urandom(MiB)
        src.send_call("io.sockd.SendAll", {"handle": hs,
                                           "data": b64(payload)})
        assert d_recv_exact(dst, hd, MiB) == payload
        assert src.result(src.recv_msg()) == {}


def test_send_partial_returns_count(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    data = os.urandom(200000)
    sent = call(c, "Send", handle=h, data=b64(data))["sent"]
    assert 0 < sent <= len(data)
    assert recv_exact_py(peer, sent) == data[:sent]
    peer.close()


def test_binary_bytes_round_trip(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    data = bytes(range(256)) * 4 + b"\0\0\xff"
    call(c, "SendAll", handle=h, data=b64(data))
    assert recv_exact_py(peer, len(data)) == data
    peer.close()


def test_empty_send(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    assert call(c, "Send", handle=h, data="")["sent"] == 0
    assert call(c, "SendAll", handle=h, data="") == {}
    peer.close()


def test_recvfrom_on_tcp_has_no_address(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    peer.sendall(b"x")
    r = call(c, "RecvFrom", handle=h, bufsize=10)
    assert unb64(r["data"]) == b"x"
    # Python: recvfrom on a TCP socket returns (data, None).
    assert r.get("address") is None
    peer.close()


@pytest.mark.parametrize("fam,host", [("AF_INET", "127.0.0.1"),
                                      ("AF_INET6", "::1")])
def test_udp(sockd, fam, host):
    family = getattr(socket, fam)
    c = sockd.client()
    h = new_socket(c, fam, "SOCK_DGRAM")
    call(c, "Bind", handle=h, address={"host": host, "port": 0})
    me = call(c, "GetSockName", handle=h)["address"]
    assert me["family"] == fam and me["host"] == host and me["port"] > 0
    py = socket.socket(family, socket.SOCK_DGRAM)
    py.bind((host, 0))
    py.settimeout(10)
    py.sendto(b"ping", (host, me["port"]))
    r = call(c, "RecvFrom", handle=h, bufsize=100)
    assert unb64(r["data"]) == b"ping"
    assert r["address"]["family"] == fam
    assert (r["address"]["host"], r["address"]["port"]) == \
        py.getsockname()[:2]
    sent = call(c, "SendTo", handle=h, data=b64(b"pong"),
                address={"host": host, "port": py.getsockname()[1]})
    assert sent == {"sent": 4}
    data, src = py.recvfrom(100)
    assert data == b"pong"
    assert src[:2] == (host, me["port"])
    # Datagram boundaries are kept; a short buffer truncates one datagram.
    py.sendto(b"abcdef", (host, me["port"]))
    py.sendto(b"second", (host, me["port"]))
    assert recv(c, h, 3) == b"abc"
    assert recv(c, h, 100) == b"second"
    py.close()


def test_udp_connected_send_recv(sockd):
    c = sockd.client()
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    py.bind(("127.0.0.1", 0))
    py.settimeout(10)
    h = new_socket(c, "AF_INET", "SOCK_DGRAM")
    call(c, "Connect", handle=h, address={"host": "127.0.0.1",
                                          "port": py.getsockname()[1]})
    assert call(c, "Send", handle=h, data=b64(b"hi"))["sent"] == 2
    data, src = py.recvfrom(10)
    assert data == b"hi"
    assert src[1] == call(c, "GetSockName", handle=h)["address"]["port"]
    py.sendto(b"back", src)
    assert recv(c, h, 10) == b"back"
    py.close()


def test_udp_send_without_destination(sockd):
    c = sockd.client()
    h = new_socket(c, "AF_INET", "SOCK_DGRAM")
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    want = py_errno(py.send, b"x")
    py.close()
    assert want == errno.EDESTADDRREQ
    expect_oserror(want, call, c, "Send", handle=h, data=b64(b"x"))


def test_unix_stream(sockd):
    c = sockd.client()
    path = os.path.join(sockd.tmpdir, "s.sock")
    h = new_socket(c, "AF_UNIX", "SOCK_STREAM")
    call(c, "Bind", handle=h, address={"path": path})
    call(c, "Listen", handle=h)
    py = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    py.settimeout(10)
    py.connect(path)
    a = call(c, "Accept", handle=h)["handle"]
    call(c, "SendAll", handle=a, data=b64(b"over unix"))
    assert recv_exact_py(py, 9) == b"over unix"
    py.sendall(b"and back")
    assert d_recv_exact(c, a, 8) == b"and back"
    py.close()
    assert recv(c, a, 10) == b""


def test_unix_dgram_path_and_abstract(sockd):
    c = sockd.client()
    path = os.path.join(sockd.tmpdir, "d.sock")
    h = new_socket(c, "AF_UNIX", "SOCK_DGRAM")
    call(c, "Bind", handle=h, address={"path": path})
    pypath = os.path.join(sockd.tmpdir, "pyd.sock")
    py = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    py.bind(pypath)
    py.settimeout(10)
    py.sendto(b"to sockd", path)
    r = call(c, "RecvFrom", handle=h, bufsize=100)
    assert unb64(r["data"]) == b"to sockd"
    assert r["address"] == {"family": "AF_UNIX", "path": pypath}
    assert call(c, "SendTo", handle=h, data=b64(b"to python"),
                address={"path": pypath})["sent"] == 9
    assert py.recvfrom(100) == (b"to python", path)
    # An abstract peer.
    name = unique("sockd-dgram")
    ab = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ab.bind("\0" + name)
    ab.settimeout(10)
    call(c, "SendTo", handle=h, data=b64(b"abstract"),
         address={"family": "AF_UNIX", "path": "@" + name})
    assert ab.recvfrom(100) == (b"abstract", path)
    ab.sendto(b"reply", path)
    r = call(c, "RecvFrom", handle=h, bufsize=100)
    assert r["address"]["path"] == "@" + name
    py.close()
    ab.close()


def test_send_to_a_reset_connection_does_not_kill_sockd(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    peer.close()  # RST
    # The first write may still be accepted locally; later ones fail.
    errs = set()
    for _ in range(20):
        try:
            call(c, "Send", handle=h, data=b64(b"x" * 1000))
        except Exception as e:
            assert getattr(e, "error", None) == "io.sockd.OSError", e
            errs.add(e.params["errno"])
            break
    assert errs and errs <= {errno.EPIPE, errno.ECONNRESET}
    assert "io.sockd" in c.call("org.varlink.service.GetInfo")["interfaces"]


def test_send_on_closed_unix_peer_is_epipe(sockd):
    c = sockd.client()
    path = os.path.join(sockd.tmpdir, "p.sock")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    lst.listen()
    lst.settimeout(10)
    h = new_socket(c, "AF_UNIX", "SOCK_STREAM")
    call(c, "Connect", handle=h, address={"path": path})
    conn, _ = lst.accept()
    conn.close()
    lst.close()
    expect_oserror(errno.EPIPE, call, c, "Send", handle=h, data=b64(b"x"))
    expect_oserror(errno.EPIPE, call, c, "SendAll", handle=h, data=b64(b"x"))
    # sockd survived its SIGPIPE-raising writes.
    assert sockd.proc.poll() is None
    assert c.call("io.sockd.List")["sockets"][0]["handle"] == h


def test_recv_from_peer_that_sends_and_closes(sockd):
    c = sockd.client()
    h, addr = d_listener(c)
    peer = tcp_connect(addr["port"])
    peer.sendall(b"last words")
    peer.close()
    a = call(c, "Accept", handle=h)["handle"]
    assert d_recv_exact(c, a, 10) == b"last words"
    assert recv(c, a, 10) == b""
    assert recv(c, a, 10) == b""


def test_msg_waitall_waits_for_the_whole_buffer(sockd):
    # Python (and the kernel) on a blocking socket: recv(n, MSG_WAITALL)
    # returns n bytes unless the stream ends first.
    a, b = socket.socketpair()
    b.sendall(b"12345")
    t = threading.Timer(0.3, b.sendall, args=(b"67890",))
    t.start()
    assert a.recv(10, socket.MSG_WAITALL) == b"1234567890"
    t.join()
    a.close()
    b.close()
    c = sockd.client()
    h, peer = d_connected(c)
    peer.sendall(b"12345")
    c.send_call("io.sockd.Recv", {"handle": h, "bufsize": 10,
                                  "flags": ["MSG_WAITALL"]})
    first_half_only = c.pending(0.3)
    peer.sendall(b"67890")
    r = c.result(c.recv_msg())
    assert not first_half_only and unb64(r["data"]) == b"1234567890", \
        f"MSG_WAITALL returned {unb64(r['data'])!r} before all 10 bytes"
    peer.close()
