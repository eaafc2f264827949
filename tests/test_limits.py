"""Limits and hostile clients: quotas, a client that stops reading, huge
values."""
import errno
import json
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


# -- the limits set on the command line --------------------------------------


def test_max_queued_calls_stops_reading(start_sockd):
    """Behind a call that waits, a client may queue --max-queued-calls
    calls; after that sockd reads no more from it (the bytes pile up in
    the socket, not in the daemon)."""
    d = start_sockd("--max-queued-calls", "16")
    c = d.client()
    h, peer = d_connected(c)
    c.send_raw(call_message("io.sockd.Recv", {"handle": h, "bufsize": 1}))
    one = call_message("io.sockd.GetTimeout", {"handle": h})
    c.sock.setblocking(False)
    sent = 0
    chunk = one * 1000
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        _, w, _ = select.select([], [c.sock], [], 0.5)
        if not w:
            break
        sent += c.sock.send(chunk)
    # The socket buffers hold a few hundred KiB; without the limit sockd
    # would read up to --max-message (16 MiB) of calls.
    assert sent < 4 << 20, f"sockd read {sent} bytes of queued calls"
    # Once the Recv is answered, every queued call runs, in order.
    peer.sendall(b"x")
    c.sock.setblocking(True)
    assert unb64(c.result(c.recv_msg())["data"]) == b"x"
    for _ in range(sent // len(one)):
        assert c.result(c.recv_msg()) == {"timeout": None}
    peer.close()


def test_max_recv(start_sockd):
    d = start_sockd("--max-recv", "1000")
    c = d.client()
    h, peer = d_connected(c)
    peer.sendall(b"y" * 5000)
    got = unb64(c.call("io.sockd.Recv", {"handle": h,
                                         "bufsize": 100000})["data"])
    assert 0 < len(got) <= 1000
    peer.close()


def test_max_depth(start_sockd):
    d = start_sockd("--max-depth", "4")
    c = d.client()
    # The message's object and "parameters" are two levels.
    ok = {"method": "io.sockd.List", "parameters": {"x": {"y": 1}}}
    c.send_raw(json.dumps(ok).encode() + b"\0")
    msg = c.recv_msg()
    assert msg.get("error") == "org.varlink.service.InvalidParameter", msg
    deep = {"method": "io.sockd.List", "parameters": {"x": {"y": [1]}}}
    c.send_raw(json.dumps(deep).encode() + b"\0")
    msg = c.recv_msg()
    assert msg["error"] == "io.sockd.ProtocolError", msg
    assert "nested too deeply" in msg["parameters"]["message"]


def test_max_addrinfo(start_sockd):
    d = start_sockd("--max-addrinfo", "1")
    r = d.client().call("io.sockd.GetAddrInfo", {"host": "127.0.0.1",
                                                 "port": 80})
    # Without the limit, one address comes for each socket type.
    assert len(r["addresses"]) == 1, r


def test_max_poll_items(start_sockd):
    d = start_sockd("--max-poll-items", "2")
    c = d.client()
    h = new_socket(c)
    items = [{"handle": h, "events": ["POLLIN"]}] * 3
    try:
        c.call("io.sockd.Poll", {"items": items, "timeout": 0})
    except VarlinkError as e:
        assert e.error == "org.varlink.service.InvalidParameter"
        assert e.params["parameter"] == "items"
    else:
        raise AssertionError("Poll took more items than --max-poll-items")
    assert len(c.call("io.sockd.Poll", {"items": items[:2],
                                        "timeout": 0})["items"]) == 2


def test_one_resolver_thread_still_resolves(start_sockd):
    d = start_sockd("--resolver-threads", "1")
    r = d.client().call("io.sockd.GetAddrInfo", {"host": "localhost"})
    assert r["addresses"]


def test_replies_past_max_output_resume_processing(start_sockd):
    """Errors the dispatcher answers itself, pipelined past --max-output:
    once the output is flushed, the rest are still answered (the loop
    used to stop until the client sent more)."""
    d = start_sockd("--max-output", "4096", "--max-message", "4096")
    c = d.client()
    n = 40
    c.send_raw(call_message("io.sockd.Nope" + "x" * 100) * n)
    for _ in range(n):
        msg = c.recv_msg()
        assert msg["error"] == "org.varlink.service.MethodNotFound", msg
    c.sock.shutdown(socket.SHUT_WR)
    assert c.sock.recv(1) == b""
