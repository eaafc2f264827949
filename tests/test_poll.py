"""Poll: ready items only, with the ready events only."""
import errno
import socket
import time

import pytest

from helpers import (d_connected, d_listener, expect_oserror, new_socket,
                     tcp_connect)


def poll(c, items, timeout=None):
    p = {"items": [{"handle": h, "events": ev} for h, ev in items]}
    p["timeout"] = timeout
    r = c.call("io.sockd.Poll", p)["items"]
    for it in r:
        assert set(it) == {"handle", "events"}, it
    return {it["handle"]: set(it["events"]) for it in r}


def udp(c):
    h = new_socket(c, "AF_INET", "SOCK_DGRAM")
    c.call("io.sockd.Bind", {"handle": h,
                             "address": {"host": "127.0.0.1", "port": 0}})
    port = c.call("io.sockd.GetSockName", {"handle": h})["address"]["port"]
    return h, port


def test_nothing_ready_with_timeout_zero(sockd):
    c = sockd.client()
    h, _ = udp(c)
    t0 = time.monotonic()
    assert poll(c, [(h, ["POLLIN"])], 0) == {}
    assert time.monotonic() - t0 < 2


def test_nothing_ready_times_out_empty(sockd):
    c = sockd.client()
    h, _ = udp(c)
    t0 = time.monotonic()
    assert poll(c, [(h, ["POLLIN"])], 0.3) == {}
    assert 0.25 <= time.monotonic() - t0 < 5


def test_pollin_after_datagram(sockd):
    c = sockd.client()
    h, port = udp(c)
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    py.sendto(b"x", ("127.0.0.1", port))
    assert poll(c, [(h, ["POLLIN"])], 5) == {h: {"POLLIN"}}
    py.close()


def test_only_ready_items_and_events(sockd):
    c = sockd.client()
    quiet, _ = udp(c)
    busy, port = udp(c)
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    py.sendto(b"x", ("127.0.0.1", port))
    r = poll(c, [(quiet, ["POLLIN"]), (busy, ["POLLIN", "POLLOUT"])], 5)
    assert set(r) == {busy}
    assert {"POLLIN", "POLLOUT"} <= r[busy]
    # Asked for POLLOUT only, POLLIN is not reported though it is ready.
    r = poll(c, [(busy, ["POLLOUT"])], 5)
    assert r == {busy: {"POLLOUT"}}
    py.close()


def test_pollout_on_connected_tcp(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    assert poll(c, [(h, ["POLLOUT"])], 5) == {h: {"POLLOUT"}}
    assert poll(c, [(h, ["POLLIN"])], 0) == {}
    peer.close()
    r = poll(c, [(h, ["POLLIN"])], 5)
    assert "POLLIN" in r[h]


def test_listener_pollin_on_pending_connection(sockd):
    c = sockd.client()
    h, addr = d_listener(c)
    assert poll(c, [(h, ["POLLIN"])], 0) == {}
    peer = tcp_connect(addr["port"])
    assert poll(c, [(h, ["POLLIN"])], 5) == {h: {"POLLIN"}}
    assert c.call("io.sockd.Accept", {"handle": h})["address"]["port"] == \
        peer.getsockname()[1]
    peer.close()


def test_blocking_poll_wakes_up(sockd):
    c = sockd.client()
    other = sockd.client()
    h, port = udp(c)
    c.send_call("io.sockd.Poll", {"items": [{"handle": h,
                                            "events": ["POLLIN"]}]})
    assert not c.pending(0.3)
    # Another connection is served meanwhile.
    assert other.call("io.sockd.GetTimeout", {"handle": h}) == \
        {"timeout": None}
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    py.sendto(b"x", ("127.0.0.1", port))
    r = c.result(c.recv_msg())
    assert r == {"items": [{"handle": h, "events": ["POLLIN"]}]}
    py.close()


def test_poll_bad_handle(sockd):
    c = sockd.client()
    h, _ = udp(c)
    expect_oserror(errno.EBADF, poll, c, [(h, ["POLLIN"]),
                                          (987654, ["POLLIN"])], 0)


def test_poll_unknown_event(sockd):
    c = sockd.client()
    h, _ = udp(c)
    with pytest.raises(Exception) as ei:
        poll(c, [(h, ["POLLNOPE"])], 0)
    assert ei.value.error == "org.varlink.service.InvalidParameter"
    assert ei.value.params["parameter"] in ("items", "events")


def test_poll_many_handles(sockd):
    c = sockd.client()
    socks = [udp(c) for _ in range(50)]
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ready = {socks[i][0] for i in (3, 17, 42)}
    for i in (3, 17, 42):
        py.sendto(b"x", ("127.0.0.1", socks[i][1]))
    items = [(h, ["POLLIN"]) for h, _ in socks]
    deadline = time.monotonic() + 5
    while True:
        r = poll(c, items, 5)
        if set(r) == ready or time.monotonic() > deadline:
            break
    assert r == {h: {"POLLIN"} for h in ready}
    py.close()


def test_same_handle_twice_waits_for_either(sockd):
    # poll(2) takes an fd in several entries, as select() with the same
    # socket in its read and write sets does. The socket is made neither
    # readable nor writable (its send buffer full), then readable: the
    # second entry's event must wake the call.
    c = sockd.client()
    h, peer = d_connected(c)
    c.call("io.sockd.SetBlocking", {"handle": h, "blocking": False})
    chunk = "A" * (1 << 18)
    for _ in range(400):
        try:
            c.call("io.sockd.Send", {"handle": h, "data": chunk})
        except Exception as e:
            assert e.params["errno"] == errno.EAGAIN
            break
    assert poll(c, [(h, ["POLLOUT"]), (h, ["POLLIN"])], 0) == {}
    c.send_call("io.sockd.Poll", {"items": [
        {"handle": h, "events": ["POLLOUT"]},
        {"handle": h, "events": ["POLLIN"]}], "timeout": 10})
    assert not c.pending(0.2)
    t0 = time.monotonic()
    peer.sendall(b"wake")
    r = c.result(c.recv_msg(timeout=10))
    assert time.monotonic() - t0 < 5, "Poll did not wake for POLLIN"
    assert any(it["handle"] == h and "POLLIN" in it["events"]
               for it in r["items"]), r
    peer.close()
