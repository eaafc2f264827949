"""FileNo: the real fd over SCM_RIGHTS, attached to its own reply."""
import errno
import os
import socket
import stat

from helpers import (check_oserror, d_connected, d_listener, expect_oserror,
                     new_socket, peer_eof, recv_exact_py, tcp_connect)
from varlink import VarlinkError, b64, call_message, unb64


def fileno(c, h, detach=None, bytewise=False):
    p = {"handle": h}
    if detach is not None:
        p["detach"] = detach
    params, fds = c.call_fds("io.sockd.FileNo", p, bytewise=bytewise)
    assert params == {"fd": 0}, params
    assert len(fds) == 1, fds
    return fds[0]


def test_fileno_gives_the_real_socket(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    fd = fileno(c, h)
    assert stat.S_ISSOCK(os.fstat(fd).st_mode)
    s = socket.socket(fileno=fd)
    assert s.family == socket.AF_INET and s.type == socket.SOCK_STREAM
    assert s.getpeername() == peer.getsockname()
    sn = c.call("io.sockd.GetSockName", {"handle": h})["address"]
    assert s.getsockname() == (sn["host"], sn["port"])
    s.sendall(b"native")
    assert recv_exact_py(peer, 6) == b"native"
    peer.sendall(b"back")
    s.settimeout(10)
    assert s.recv(10) == b"back"
    # sockd still holds its copy: closing ours is not EOF for the peer.
    s.close()
    c.call("io.sockd.SendAll", {"handle": h, "data": b64(b"still here")})
    assert recv_exact_py(peer, 10) == b"still here"
    c.call("io.sockd.Close", {"handle": h})
    assert peer_eof(peer)
    peer.close()


def test_fileno_detach(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    fd = fileno(c, h, detach=True)
    expect_oserror(errno.EBADF, c.call, "io.sockd.GetSockName",
                   {"handle": h})
    assert c.call("io.sockd.List")["sockets"] == []
    s = socket.socket(fileno=fd)
    s.sendall(b"detached")
    assert recv_exact_py(peer, 8) == b"detached"
    # Ours is the only fd left: closing it ends the connection.
    s.close()
    assert peer_eof(peer)
    peer.close()


def test_fileno_of_a_listener(sockd):
    c = sockd.client()
    h, addr = d_listener(c)
    fd = fileno(c, h, detach=False)
    lst = socket.socket(fileno=fd)
    lst.settimeout(10)
    peer = tcp_connect(addr["port"])
    conn, raddr = lst.accept()
    assert raddr == peer.getsockname()
    conn.close()
    peer.close()
    lst.close()
    assert c.call("io.sockd.GetSockName", {"handle": h})["address"] == addr


def test_fileno_of_a_unix_dgram_socket(sockd):
    c = sockd.client()
    h = new_socket(c, "AF_UNIX", "SOCK_DGRAM")
    path = os.path.join(sockd.tmpdir, "fd.sock")
    c.call("io.sockd.Bind", {"handle": h, "address": {"path": path}})
    s = socket.socket(fileno=fileno(c, h))
    py = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    py.sendto(b"to the fd", path)
    s.settimeout(10)
    assert s.recv(100) == b"to the fd"
    py.sendto(b"to sockd", path)
    assert unb64(c.call("io.sockd.Recv", {"handle": h, "bufsize": 100})
                 ["data"]) == b"to sockd"
    s.close()
    py.close()


def test_fileno_bad_handle_has_no_fd(sockd):
    c = sockd.client()
    c.send_call("io.sockd.FileNo", {"handle": 4242})
    msg, fds = c.recv_msg_fds()
    for fd in fds:
        os.close(fd)
    assert fds == []
    assert msg["error"] == "io.sockd.OSError"
    check_oserror(VarlinkError(msg["error"], msg["parameters"]), errno.EBADF)


def test_fds_ride_on_their_own_reply(sockd):
    c = sockd.client()
    hs = [new_socket(c, "AF_INET", "SOCK_DGRAM") for _ in range(5)]
    batch = b""
    for h in hs:
        batch += call_message("org.varlink.service.GetInfo")
        batch += call_message("io.sockd.FileNo", {"handle": h})
        batch += call_message("io.sockd.GetSockName", {"handle": h})
    c.send_raw(batch)
    got = []
    for h in hs:
        # Read byte by byte: the kernel then hands out the fds with the
        # exact byte they were attached to.
        m1, f1 = c.recv_msg_fds(bytewise=True)
        m2, f2 = c.recv_msg_fds(bytewise=True)
        m3, f3 = c.recv_msg_fds(bytewise=True)
        assert "interfaces" in m1["parameters"] and f1 == []
        assert m2 == {"parameters": {"fd": 0}} and len(f2) == 1
        assert "address" in m3["parameters"] and f3 == []
        got.append(f2[0])
    # Every fd came on the first byte of a message.
    assert set(c.fd_offsets) <= set(c.msg_starts)
    assert len(c.fd_offsets) == len(hs)
    # And each fd is the socket it was asked for.
    for h, fd in zip(hs, got):
        s = socket.socket(fileno=fd)
        assert s.type == socket.SOCK_DGRAM
        port = s.getsockname()[1]
        s.close()
        assert port == 0


def test_many_fileno_calls_pipelined(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    n = 40
    c.send_raw(call_message("io.sockd.FileNo", {"handle": h}) * n)
    fds = []
    for _ in range(n):
        msg, f = c.recv_msg_fds()
        assert msg == {"parameters": {"fd": 0}}
        assert len(f) == 1
        fds.append(f[0])
    assert len(set(fds)) == n
    for i, fd in enumerate(fds):
        s = socket.socket(fileno=fd)
        s.sendall(bytes([i]))
        s.close()
    assert recv_exact_py(peer, n) == bytes(range(n))
    peer.close()


def test_sockd_leaves_a_holders_linger_alone(sockd):
    """sockd never waits for a linger when it closes its copy, but it must
    not do so by changing the socket's options, which are the holder's
    too: after FileNo detach, and after FileNo then Close, the holder's
    socket keeps the SO_LINGER it had."""
    import struct
    want = struct.pack("ii", 1, 30)
    c = sockd.client()
    for detach in (True, False):
        h, peer = d_connected(c)
        c.call("io.sockd.SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                                       "option": "SO_LINGER",
                                       "data": b64(want)})
        s = socket.socket(fileno=fileno(c, h, detach=detach))
        if not detach:
            c.call("io.sockd.Close", {"handle": h})
        # The reply that carried the fd is answered before sockd closes
        # its copy: one more call makes sure that close has happened.
        c.call("org.varlink.service.GetInfo")
        got = s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, len(want))
        assert got == want, f"detach={detach}: linger {struct.unpack('ii', got)}"
        s.close()
        peer.close()
