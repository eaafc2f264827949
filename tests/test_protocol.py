"""Varlink framing, bad frames, parameter checking, pipelining, flags."""
import errno
import fcntl
import json
import socket
import struct
import termios
import time

import pytest

from conftest import IDL
from helpers import check_oserror, expect_invalid, new_socket, d_listener
from varlink import Client, VarlinkError, call_message, encode, \
    wait_until

GETINFO = call_message("org.varlink.service.GetInfo")


def outq(sock):
    """Bytes we sent that the daemon has not read yet (SIOCOUTQ)."""
    buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


def assert_usable(c):
    assert "io.sockd" in c.call("org.varlink.service.GetInfo")["interfaces"]


# -- framing --------------------------------------------------------------

def test_call_split_one_byte_at_a_time(sockd):
    c = sockd.client()
    msg = call_message("org.varlink.service.GetInterfaceDescription",
                       {"interface": "io.sockd"})
    for i in range(len(msg)):
        c.send_raw(msg[i:i + 1])
        # The daemon reads each byte on its own before the next comes.
        wait_until(lambda: outq(c.sock) == 0, what="sockd to read a byte")
        if i < len(msg) - 1:
            assert not c.pending(0), "reply before the whole call arrived"
    reply = c.recv_msg()
    with open(IDL, "rb") as f:
        assert reply["parameters"]["description"].encode() == f.read()


def test_reply_read_one_byte_at_a_time(sockd):
    c = sockd.client()
    c.send_raw(GETINFO)
    raw = bytearray()
    deadline = time.monotonic() + 10
    while not raw.endswith(b"\0"):
        assert time.monotonic() < deadline
        b = c.sock.recv(1)
        assert b, "EOF in the middle of a reply"
        raw += b
    assert "io.sockd" in json.loads(raw[:-1])["parameters"]["interfaces"]


def test_large_replies_to_a_slow_reader(sockd):
    with open(IDL, "rb") as f:
        want = f.read()
    c = sockd.client()
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    n = 64
    call = call_message("org.varlink.service.GetInterfaceDescription",
                        {"interface": "io.sockd"})
    c.send_raw(call * n)
    # Let the daemon's output back up before reading slowly.
    for i in range(n):
        reply = c.recv_msg()
        assert reply["parameters"]["description"].encode() == want, i


def test_pipelined_calls_reply_in_order(sockd):
    c = sockd.client()
    n = 100
    batch = b""
    for i in range(n):
        batch += call_message("io.sockd.Socket",
                              {"family": "AF_INET", "type": "SOCK_DGRAM",
                               "name": f"p{i}"})
        batch += call_message("io.sockd.Close", {"handle": 10 ** 9 + i})
    batch += call_message("io.sockd.List")
    c.send_raw(batch)
    handles = []
    for i in range(n):
        ok = c.recv_msg()
        assert "error" not in ok, (i, ok)
        handles.append(ok["parameters"]["handle"])
        err = c.recv_msg()
        assert err.get("error") == "io.sockd.OSError", (i, err)
    assert handles == sorted(set(handles))
    listing = c.recv_msg()["parameters"]["sockets"]
    byname = {s["name"]: s["handle"] for s in listing}
    assert byname == {f"p{i}": handles[i] for i in range(n)}


def test_parameters_missing_null_and_empty_are_the_same(sockd):
    c = sockd.client()
    c.send_raw(encode({"method": "io.sockd.List"}))
    c.send_raw(encode({"method": "io.sockd.List", "parameters": None}))
    c.send_raw(encode({"method": "io.sockd.List", "parameters": {}}))
    for _ in range(3):
        msg = c.recv_msg()
        assert "error" not in msg, msg
        assert c.result(msg) == {"sockets": []}


def test_whitespace_around_the_json_is_fine(sockd):
    c = sockd.client()
    c.send_raw(b' \n{ "method" : "org.varlink.service.GetInfo" }\n \0')
    assert "io.sockd" in c.recv_msg()["parameters"]["interfaces"]


def test_oneway_gets_no_reply(sockd):
    c = sockd.client()
    c.send_call("io.sockd.Socket", {"family": "AF_INET",
                                    "type": "SOCK_STREAM", "name": "ow"},
                oneway=True)
    # A failing oneway call gets no reply either.
    c.send_call("io.sockd.Close", {"handle": 123456789}, oneway=True)
    c.send_call("io.sockd.NoSuchMethod", oneway=True)
    c.send_call("io.sockd.List")
    reply = c.recv_msg()
    names = [s.get("name") for s in reply["parameters"]["sockets"]]
    assert names == ["ow"]
    assert not c.pending(0.2)


def test_more_on_a_plain_method(sockd):
    c = sockd.client()
    c.send_call("org.varlink.service.GetInfo", more=True)
    c.send_call("io.sockd.List", more=True)
    first = c.recv_msg()
    assert not first.get("continues"), first
    assert "io.sockd" in first["parameters"]["interfaces"]
    second = c.recv_msg()
    assert not second.get("continues"), second
    assert second["parameters"]["sockets"] == []
    assert not c.pending(0.2)


def test_error_reply_has_no_continues(sockd):
    c = sockd.client()
    c.send_call("io.sockd.Close", {"handle": 987654}, more=True)
    msg = c.recv_msg()
    assert msg["error"] == "io.sockd.OSError"
    assert "continues" not in msg


def test_client_closes_with_replies_unread(sockd):
    c = Client(sockd.path)
    c.send_raw(call_message("org.varlink.service.GetInterfaceDescription",
                            {"interface": "io.sockd"}) * 200)
    c.close()
    assert_usable(sockd.client())


# -- bad frames -------------------------------------------------------------

BAD_FRAMES = {
    "not-json": b"this is not json\0",
    "empty": b"\0",
    "truncated-json": b'{"method": "org.varlink.service.GetInfo"\0',
    "trailing-garbage": b'{"method":"org.varlink.service.GetInfo"} x\0',
    "array": b'["org.varlink.service.GetInfo"]\0',
    "number": b"42\0",
    "string": b'"org.varlink.service.GetInfo"\0',
    "null": b"null\0",
    "no-method": b'{"parameters": {}}\0',
    "empty-object": b"{}\0",
    "method-number": b'{"method": 5}\0',
    "method-null": b'{"method": null}\0',
    "method-object": b'{"method": {"name": "GetInfo"}}\0',
    "oneway-more": b'{"method":"org.varlink.service.GetInfo",'
                   b'"oneway":true,"more":true}\0',
    "oneway-upgrade": b'{"method":"org.varlink.service.GetInfo",'
                      b'"oneway":true,"upgrade":true}\0',
    "more-upgrade": b'{"method":"org.varlink.service.GetInfo",'
                    b'"more":true,"upgrade":true}\0',
    "flag-not-bool": b'{"method":"org.varlink.service.GetInfo",'
                     b'"more":"yes"}\0',
    "unknown-top-level": b'{"method":"org.varlink.service.GetInfo",'
                         b'"bogus":1}\0',
    "invalid-utf8-value": b'{"method":"org.varlink.service.'
                          b'GetInterfaceDescription","parameters":'
                          b'{"interface":"io.\xff\xfe"}}\0',
    "invalid-utf8-method": b'{"method":"io.sockd.\xc3\x28"}\0',
    "overlong-utf8": b'{"method":"org.varlink.service.GetInfo\xc0\xaf"}\0',
    "too-deep": (b'{"method":"org.varlink.service.GetInfo","parameters":'
                 b'{"x":' + b"[" * 40 + b"]" * 40 + b"}}\0"),
}


def check_protocol_error_and_close(c):
    first = c.recv_msg()
    assert first.get("error") == "io.sockd.ProtocolError", first
    message = first.get("parameters", {}).get("message")
    assert isinstance(message, str) and message
    try:
        more = c.wait_closed(5)
    except TimeoutError:
        raise AssertionError("connection still open after ProtocolError")
    assert not more, f"replies after the ProtocolError: {more}"


@pytest.mark.parametrize("frame", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
def test_bad_frame(sockd, frame):
    other = sockd.client()
    h = new_socket(other, "AF_INET", "SOCK_DGRAM")
    c = sockd.client()
    # The call after the bad frame is never answered.
    c.send_raw(frame + GETINFO)
    check_protocol_error_and_close(c)
    # Nothing else is disturbed: the other connection and its socket.
    assert other.call("io.sockd.GetSockName", {"handle": h})["address"][
        "family"] == "AF_INET"
    assert_usable(sockd.client())


def test_nesting_within_the_limit_is_a_parameter_problem(sockd):
    c = sockd.client()
    c.send_raw(b'{"method":"org.varlink.service.GetInfo","parameters":'
               b'{"x":' + b"[" * 20 + b"]" * 20 + b"}}\0")
    msg = c.recv_msg()
    assert msg.get("error") == "org.varlink.service.InvalidParameter", msg
    assert msg["parameters"]["parameter"] == "x"
    assert_usable(c)


def test_frame_over_max_message_without_nul(start_sockd):
    d = start_sockd("--max-message", "4096")
    other = d.client()
    c = d.client()
    c.send_raw(b'{"method":"org.varlink.service.GetInterfaceDescription",'
               b'"parameters":{"interface":"' + b"a" * 6000)
    check_protocol_error_and_close(c)
    assert_usable(other)
    assert_usable(d.client())


def test_frame_over_max_message_with_nul(start_sockd):
    d = start_sockd("--max-message", "4096")
    c = d.client()
    c.send_raw(call_message("org.varlink.service.GetInterfaceDescription",
                            {"interface": "a" * 5000}))
    check_protocol_error_and_close(c)
    assert_usable(d.client())


def test_frame_under_max_message(start_sockd):
    d = start_sockd("--max-message", "4096")
    c = d.client()
    name = "a" * 3900
    c.send_raw(call_message("org.varlink.service.GetInterfaceDescription",
                            {"interface": name}))
    msg = c.recv_msg()
    assert msg.get("error") == "org.varlink.service.InterfaceNotFound", msg
    assert msg["parameters"]["interface"] == name
    assert_usable(c)


def test_many_small_messages_exceed_nothing(start_sockd):
    # The limit is per message, not per connection.
    d = start_sockd("--max-message", "4096")
    c = d.client()
    c.send_raw(GETINFO * 200)
    for _ in range(200):
        assert "io.sockd" in c.recv_msg()["parameters"]["interfaces"]


# -- parameters -----------------------------------------------------------

def test_unknown_parameter_of_a_parameterless_method(sockd):
    c = sockd.client()
    expect_invalid("x", c.call, "org.varlink.service.GetInfo", {"x": 1})
    expect_invalid("all", c.call, "io.sockd.List", {"all": True})
    assert_usable(c)


@pytest.fixture
def handle_client(sockd):
    c = sockd.client()
    h, _ = d_listener(c)
    return c, h


H = object()  # replaced by a real handle

INVALID = [
    ("Socket", {"family": "AF_INET", "type": "SOCK_STREAM", "bogus": 1},
     "bogus"),
    ("Socket", {"family": "AF_INET"}, "type"),
    ("Socket", {"type": "SOCK_STREAM"}, "family"),
    ("Socket", {"family": 2, "type": "SOCK_STREAM"}, "family"),
    ("Socket", {"family": "AF_NOPE", "type": "SOCK_STREAM"}, "family"),
    ("Socket", {"family": "AF_INET", "type": "SOCK_NOPE"}, "type"),
    ("Socket", {"family": "AF_INET", "type": "SOCK_STREAM", "proto": "6"},
     "proto"),
    ("Socket", {"family": "AF_INET", "type": "SOCK_STREAM",
                "persistent": 1}, "persistent"),
    ("Socket", {"family": "AF_INET", "type": "SOCK_STREAM", "name": 5},
     "name"),
    ("Bind", {"handle": "1", "address": {"host": "127.0.0.1", "port": 0}},
     "handle"),
    ("Bind", {"handle": 1.5, "address": {"host": "127.0.0.1", "port": 0}},
     "handle"),
    ("Bind", {"handle": H}, "address"),
    ("Bind", {"handle": H, "address": "127.0.0.1:0"}, "address"),
    ("Bind", {"handle": H, "address": {"host": 127, "port": 0}},
     ("host", "address")),
    ("Bind", {"handle": H, "address": {"host": "127.0.0.1", "port": "80"}},
     ("port", "address")),
    ("Bind", {"handle": H, "address": {"host": "127.0.0.1", "port": 0,
                                         "bogus": 1}},
     ("bogus", "address")),
    ("Listen", {"handle": H, "backlog": "5"}, "backlog"),
    ("Recv", {"handle": H}, "bufsize"),
    ("Recv", {"handle": H, "bufsize": 1.5}, "bufsize"),
    ("Recv", {"handle": H, "bufsize": 10, "flags": "MSG_PEEK"}, "flags"),
    ("Recv", {"handle": H, "bufsize": 10, "flags": ["MSG_NOPE"]},
     "flags"),
    ("Send", {"handle": H}, "data"),
    ("Send", {"handle": H, "data": "!!not base64!!"}, "data"),
    ("Send", {"handle": H, "data": "aGVsbG8"}, "data"),
    ("Send", {"handle": H, "data": 5}, "data"),
    ("SendTo", {"handle": H, "data": "aGk="}, "address"),
    ("Shutdown", {"handle": H, "how": "SHUT_NOPE"}, "how"),
    ("Shutdown", {"handle": H}, "how"),
    ("SetTimeout", {"handle": H, "timeout": "1"}, "timeout"),
    ("SetBlocking", {"handle": H, "blocking": 1}, "blocking"),
    ("SetBlocking", {"handle": H}, "blocking"),
    ("SetSockOpt", {"handle": H, "level": "SOL_SOCKET",
                    "option": "SO_REUSEADDR", "value": "1"}, "value"),
    ("GetSockOpt", {"handle": H, "level": 1, "option": "SO_REUSEADDR"},
     "level"),
    ("Close", {}, "handle"),
    ("Close", {"handle": H, "force": True}, "force"),
    ("FileNo", {"handle": H, "detach": "yes"}, "detach"),
    ("Poll", {"items": {"handle": 1}}, "items"),
    ("Poll", {}, "items"),
    ("GetAddrInfo", {"host": "127.0.0.1", "port": "80"}, "port"),
    ("GetAddrInfo", {"host": "127.0.0.1", "flags": ["AI_NOPE"]}, "flags"),
    ("GetNameInfo", {"flags": ["NI_NUMERICHOST"]}, "address"),
    ("GetHostByAddr", {}, "host"),
]


@pytest.mark.parametrize("method,params,field", INVALID,
                         ids=[f"{m}-{i}" for i, (m, _, _) in
                              enumerate(INVALID)])
def test_invalid_parameter(handle_client, method, params, field):
    c, h = handle_client
    params = {k: (h if v is H else v) for k, v in params.items()}
    expect_invalid(field, c.call, "io.sockd." + method, params)
    # The connection and the socket are still fine.
    addr = c.call("io.sockd.GetSockName", {"handle": h})["address"]
    assert addr["family"] == "AF_INET" and addr["port"] > 0
    assert len(c.call("io.sockd.List")["sockets"]) == 1


def test_parameter_errors_do_not_create_sockets(sockd):
    c = sockd.client()
    expect_invalid("bogus", c.call, "io.sockd.Socket",
                   {"family": "AF_INET", "type": "SOCK_STREAM",
                    "bogus": True})
    assert c.call("io.sockd.List")["sockets"] == []


def test_error_then_more_calls(sockd):
    c = sockd.client()
    with pytest.raises(VarlinkError) as ei:
        c.call("io.sockd.Close", {"handle": 424242})
    check_oserror(ei.value, errno.EBADF)
    assert_usable(c)


def test_half_closed_client_gets_every_reply(sockd):
    # What `printf ... | socat - UNIX-CONNECT:...` does.
    c = sockd.client()
    c.send_raw(GETINFO
               + call_message("io.sockd.Socket", {"family": "AF_INET",
                                                  "type": "SOCK_DGRAM"})
               + call_message("io.sockd.List"))
    c.sock.shutdown(socket.SHUT_WR)
    msgs = c.wait_closed(10)
    assert len(msgs) == 3, msgs
    assert "interfaces" in msgs[0]["parameters"]
    h = msgs[1]["parameters"]["handle"]
    assert [s["handle"] for s in msgs[2]["parameters"]["sockets"]] == [h]


def test_half_closed_client_with_a_waiting_call(sockd):
    owner = sockd.client()
    h, addr = d_listener(owner)
    c = sockd.client()
    c.send_raw(call_message("io.sockd.Accept", {"handle": h}) + GETINFO)
    c.sock.shutdown(socket.SHUT_WR)
    assert not c.pending(0.3)
    peer = socket.create_connection(("127.0.0.1", addr["port"]), timeout=10)
    msgs = c.wait_closed(10)
    assert len(msgs) == 2, msgs
    assert msgs[0]["parameters"]["address"]["port"] == \
        peer.getsockname()[1]
    assert "interfaces" in msgs[1]["parameters"]
    peer.close()


def test_connection_limits(start_sockd):
    d = start_sockd("--max-connections-per-uid", "2")
    a = d.client()
    b = d.client()
    assert_usable(a)
    extra = d.client()
    try:
        msgs = extra.wait_closed(5)
    except TimeoutError:
        raise AssertionError("a connection over the limit stays open")
    assert all(m.get("error") == "io.sockd.ProtocolError" for m in msgs)
    assert_usable(b)
    a.close()

    def room():
        c = Client(d.path)
        try:
            c.send_raw(GETINFO)
            try:
                return "error" not in c.recv_msg(timeout=2)
            except Exception:
                return False
        finally:
            c.close()
    wait_until(room, what="a free connection slot after a close")
