"""Attach: a control connection upgraded into a raw byte pipe to a socket.

After the reply to {"method": "io.sockd.Attach", "upgrade": true}, what the
client writes reaches the socket's peer and what the peer sends comes back,
with half-closes passed on each way.
"""
import json
import os
import socket
import threading

import pytest

from helpers import (check_oserror, d_connected, d_listener, new_socket,
                     peer_eof, read_to_eof, recv_exact_py)
from varlink import (Client, VarlinkError, b64, call_message, unb64,
                     wait_until)

MIB = 1024 * 1024


def call(c, method, **params):
    return c.call("io.sockd." + method, params)


def read_reply(sock):
    """One reply, read a byte at a time so that nothing behind it is
    taken."""
    buf = b""
    while not buf.endswith(b"\0"):
        b = sock.recv(1)
        assert b, f"connection closed after {buf!r}"
        buf += b
    return json.loads(buf[:-1])


def attach(path, h, behind=b""):
    """A new connection attached to handle h: the raw socket. behind is
    written in the same send as the call."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    s.sendall(call_message("io.sockd.Attach", {"handle": h}, upgrade=True)
              + behind)
    reply = read_reply(s)
    assert "error" not in reply, reply
    return s


def attach_error(path, h, **flags):
    c = Client(path)
    try:
        c.send_call("io.sockd.Attach", {"handle": h}, **flags)
        with pytest.raises(VarlinkError) as e:
            c.result(c.recv_msg())
        # An error leaves the connection a varlink one.
        assert "sockets" in call(c, "List")
        return e.value
    finally:
        c.close()


def test_binary_payloads_both_ways(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    s = attach(sockd.path, h)
    up, down = os.urandom(4 * MIB) + bytes(range(256)), \
        bytes(range(256)) * 4096
    got = {}
    t = threading.Thread(target=lambda: got.update(up=read_to_eof(peer)))
    t.start()
    s.sendall(up)
    s.shutdown(socket.SHUT_WR)
    t.join(30)
    assert got["up"] == up
    peer.sendall(down)
    peer.close()
    assert read_to_eof(s) == down
    s.close()


def test_half_close_from_the_client(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    s = attach(sockd.path, h)
    s.sendall(b"question")
    s.shutdown(socket.SHUT_WR)
    # The peer sees the data, then EOF: the half-close went through.
    assert recv_exact_py(peer, 8) == b"question"
    assert peer.recv(1) == b""
    # The other direction still works.
    peer.sendall(b"answer")
    assert recv_exact_py(s, 6) == b"answer"
    peer.close()
    assert s.recv(1) == b""
    s.close()


def test_half_close_from_the_peer(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    s = attach(sockd.path, h)
    peer.sendall(b"hello")
    peer.shutdown(socket.SHUT_WR)
    assert recv_exact_py(s, 5) == b"hello"
    assert s.recv(1) == b""
    # The client may still talk to the peer.
    s.sendall(b"still here")
    assert recv_exact_py(peer, 10) == b"still here"
    s.shutdown(socket.SHUT_WR)
    assert peer.recv(1) == b""
    peer.close()
    s.close()


def test_bytes_behind_the_call_are_data_not_calls(sockd):
    """A call pipelined behind the upgrade is not eaten, nor run: it is
    raw data for the socket."""
    c = sockd.client()
    h, peer = d_connected(c)
    behind = call_message("io.sockd.Close", {"handle": h}) + b"tail"
    s = attach(sockd.path, h, behind=behind)
    assert recv_exact_py(peer, len(behind)) == behind
    # The Close was not run: the handle is alive and attached.
    assert [x["handle"] for x in call(c, "List")["sockets"]] == [h]
    s.close()
    peer.close()


def test_unix_stream_socket(sockd, tmpdir_short):
    path = os.path.join(tmpdir_short, "peer.sock")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    lst.listen()
    c = sockd.client()
    h = new_socket(c, "AF_UNIX", "SOCK_STREAM")
    call(c, "Connect", handle=h, address={"family": "AF_UNIX",
                                          "path": path})
    peer, _ = lst.accept()
    s = attach(sockd.path, h)
    data = os.urandom(MIB)
    t = threading.Thread(target=lambda: s.sendall(data))
    t.start()
    assert recv_exact_py(peer, len(data)) == data
    t.join()
    t = threading.Thread(target=lambda: peer.sendall(data[::-1]))
    t.start()
    assert recv_exact_py(s, len(data)) == data[::-1]
    t.join()
    peer.close()
    s.close()
    lst.close()


def test_scoped_handle_closes_when_the_relay_ends(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    s = attach(sockd.path, h)
    s.shutdown(socket.SHUT_WR)
    peer.close()
    assert s.recv(1) == b""
    wait_until(lambda: call(c, "List")["sockets"] == [],
               what="the handle to close with its relay")
    s.close()


def test_persistent_handle_stays_after_the_relay(sockd):
    c = sockd.client()
    h, peer = d_connected(c, persistent=True)
    s = attach(sockd.path, h)
    s.sendall(b"x")
    s.shutdown(socket.SHUT_WR)
    assert recv_exact_py(peer, 1) == b"x"
    peer.close()
    assert s.recv(1) == b""
    s.close()
    # No longer attached: ordinary calls work again.
    wait_until(lambda: _peer_name_ok(c, h), what="the relay to end")
    assert [x["handle"] for x in call(c, "List")["sockets"]] == [h]
    call(c, "Close", handle=h)


def _peer_name_ok(c, h):
    try:
        call(c, "SetTimeout", handle=h, timeout=1)
        return True
    except VarlinkError as e:
        assert e.params.get("errno") == 16, e  # EBUSY while attached
        return False


def test_client_hangup_ends_the_relay(sockd):
    """A client that half-closes and then goes away, with a peer that says
    nothing: the relay must not hang on forever."""
    c = sockd.client()
    h, peer = d_connected(c)
    s = attach(sockd.path, h)
    s.shutdown(socket.SHUT_WR)
    assert peer.recv(1) == b""
    s.close()
    wait_until(lambda: call(c, "List")["sockets"] == [],
               what="the relay to end after the client left")
    assert peer_eof(peer)
    peer.close()


def test_attached_handle_refuses_other_calls(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    s = attach(sockd.path, h)
    with pytest.raises(VarlinkError) as e:
        call(c, "Send", handle=h, data=b64(b"x"))
    check_oserror(e.value, 16)  # EBUSY
    with pytest.raises(VarlinkError) as e:
        attach_error_call(c, h)
    check_oserror(e.value, 16)
    # Names and the timeout may still be read.
    assert call(c, "GetPeerName", handle=h)["address"]["port"] == \
        peer.getsockname()[1]
    assert call(c, "GetTimeout", handle=h) == {"timeout": None}
    # Close ends the relay: the client's connection closes.
    call(c, "Close", handle=h)
    assert read_to_eof(s) == b""
    assert peer_eof(peer)
    s.close()
    peer.close()


def attach_error_call(c, h):
    c.send_call("io.sockd.Attach", {"handle": h}, upgrade=True)
    return c.result(c.recv_msg())


def test_attach_needs_upgrade(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    e = attach_error(sockd.path, h)
    assert e.error == "org.varlink.service.ExpectedUpgrade"
    peer.close()


def test_attach_unknown_handle(sockd):
    e = attach_error(sockd.path, 999999, upgrade=True)
    check_oserror(e, 9)  # EBADF


def test_attach_datagram_socket(sockd):
    c = sockd.client()
    h = new_socket(c, "AF_INET", "SOCK_DGRAM")
    e = attach_error(sockd.path, h, upgrade=True)
    check_oserror(e, 95)  # EOPNOTSUPP


def test_attach_unconnected_and_listening(sockd):
    c = sockd.client()
    fresh = new_socket(c)
    check_oserror(attach_error(sockd.path, fresh, upgrade=True), 107)
    lst, _ = d_listener(c)
    check_oserror(attach_error(sockd.path, lst, upgrade=True), 107)


def test_attach_while_a_call_waits(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    waiter = sockd.client()
    waiter.send_call("io.sockd.Recv", {"handle": h, "bufsize": 10})
    # A round trip on another connection: by its reply, the loop has read
    # the Recv and parked it (nothing to read yet).
    call(sockd.client(), "List")
    e = attach_error(sockd.path, h, upgrade=True)
    check_oserror(e, 16)  # EBUSY: it would race the Recv
    peer.sendall(b"for recv")
    assert unb64(waiter.result(waiter.recv_msg())["data"]) == b"for recv"
    peer.close()
