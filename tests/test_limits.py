"""Limits and hostile clients: quotas, a client that stops reading, huge
values."""
import errno
import select
import socket
import time

from helpers import check_oserror, d_connected, expect_oserror, new_socket
from varlink import Client, VarlinkError, call_message, unb64, wait_until


def test_handle_quota_per_uid(start_sockd):
    d = start_sockd("--max-handles-per-uid", "3")
    a = d.client()
    b = d.client()
    hs = [new_socket(a), new_socket(b), new_socket(a, persistent=True)]
    e = expect_oserror(errno.EMFILE, new_socket, b)
    assert e.params["name"] == "EMFILE"
    a.call("io.sockd.Close", {"handle": hs[0]})
    hs.append(new_socket(b))
    # A connection's end frees its scoped handles.
    b.close()

    def room():
        try:
            return new_socket(a)
        except VarlinkError as e:
            check_oserror(e, errno.EMFILE)
            return None
    assert wait_until(room, what="quota freed by a disconnect") > 0


def test_client_that_stops_reading(sockd):
    """A client that sends and never reads is throttled, not buffered
    without end, and others go on meanwhile."""
    slow = sockd.client()
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    call = call_message("org.varlink.service.GetInterfaceDescription",
                        {"interface": "io.sockd"})
    n = 400000  # 38 MB of calls, 5 GB of replies
    data = call * n
    slow.sock.setblocking(False)
    sent = 0
    deadline = time.monotonic() + 15
    # Send until sockd has not taken a byte for a second.
    while sent < len(data) and time.monotonic() < deadline:
        _, w, _ = select.select([], [slow.sock], [], 1.0)
        if not w:
            break
        sent += slow.sock.send(data[sent:sent + 65536])
    # sockd stopped reading from us long before all replies were made.
    assert sent < 8 << 20, \
        f"sockd read {sent} bytes of calls from a client that never reads"
    other = sockd.client()
    t0 = time.monotonic()
    assert "io.sockd" in other.call("org.varlink.service.GetInfo")[
        "interfaces"]
    assert time.monotonic() - t0 < 2
    # Reading makes progress again; every reply is whole and in order.
    slow.sock.setblocking(True)
    slow.sock.settimeout(10)
    got = 0
    want_desc = None
    while got < sent // len(call):
        msg = slow.recv_msg()
        desc = msg["parameters"]["description"]
        want_desc = want_desc or desc
        assert desc == want_desc
        got += 1
    slow.close()
    assert other.call("io.sockd.List") == {"sockets": []}


def test_disconnect_in_the_middle_of_a_large_reply(sockd):
    c = Client(sockd.path)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    h, peer = d_connected(c)
    peer.sendall(b"z" * (1 << 20))
    c.send_raw(call_message("io.sockd.Recv", {"handle": h,
                                              "bufsize": 1 << 20}))
    c.sock.recv(100)
    c.close()
    peer.close()
    assert "io.sockd" in sockd.client().call(
        "org.varlink.service.GetInfo")["interfaces"]


def test_huge_bufsize(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    peer.sendall(b"small")
    try:
        r = c.call("io.sockd.Recv", {"handle": h, "bufsize": 2 ** 62})
    except VarlinkError as e:
        assert e.error in ("io.sockd.OSError",
                           "org.varlink.service.InvalidParameter"), e
    else:
        assert unb64(r["data"]) == b"small"[:len(unb64(r["data"]))]
    assert c.call("io.sockd.GetPeerName", {"handle": h})["address"][
        "port"] == peer.getsockname()[1]
    peer.close()


def test_many_handles_closed_at_disconnect(sockd):
    a = sockd.client()
    n = 2000
    a.send_raw(call_message("io.sockd.Socket", {"family": "AF_INET",
                                                "type": "SOCK_DGRAM"}) * n)
    handles = [a.result(a.recv_msg())["handle"] for _ in range(n)]
    assert len(set(handles)) == n
    t0 = time.monotonic()
    a.call("io.sockd.GetSockName", {"handle": handles[n // 2]})
    assert time.monotonic() - t0 < 1
    assert len(a.call("io.sockd.List")["sockets"]) == n
    a.close()
    b = sockd.client()
    wait_until(lambda: b.call("io.sockd.List")["sockets"] == [],
               what="2000 scoped handles to close")
