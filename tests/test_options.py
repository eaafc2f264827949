"""SetSockOpt / GetSockOpt, as ints and as bytes, against what Python's own
socket module gets from the same kernel."""
import errno
import socket
import struct

import pytest

from helpers import (d_connected, expect_invalid, expect_oserror, new_socket,
                     py_errno)
from varlink import b64, unb64


def setopt(c, h, level, option, value=None, data=None):
    p = {"handle": h, "level": level, "option": option}
    if value is not None:
        p["value"] = value
    if data is not None:
        p["data"] = b64(data)
    return c.call("io.sockd.SetSockOpt", p)


def getopt(c, h, level, option, buflen=None):
    p = {"handle": h, "level": level, "option": option}
    if buflen is not None:
        p["buflen"] = buflen
    r = c.call("io.sockd.GetSockOpt", p)
    if buflen is None:
        assert isinstance(r["value"], int), r
        assert r.get("data") is None, r
        return r["value"]
    assert r.get("value") is None, r
    return unb64(r["data"])


INT_OPTIONS = [
    # family, type, level, option, value to set
    ("AF_INET", "SOCK_STREAM", "SOL_SOCKET", "SO_REUSEADDR", 1),
    ("AF_INET", "SOCK_STREAM", "SOL_SOCKET", "SO_KEEPALIVE", 1),
    ("AF_INET", "SOCK_STREAM", "SOL_SOCKET", "SO_RCVBUF", 65536),
    ("AF_INET", "SOCK_STREAM", "SOL_SOCKET", "SO_SNDBUF", 32768),
    ("AF_INET", "SOCK_DGRAM", "SOL_SOCKET", "SO_BROADCAST", 1),
    ("AF_INET", "SOCK_STREAM", "IPPROTO_TCP", "TCP_NODELAY", 1),
    ("AF_INET", "SOCK_STREAM", "IPPROTO_TCP", "TCP_KEEPIDLE", 77),
    ("AF_INET", "SOCK_STREAM", "IPPROTO_IP", "IP_TTL", 17),
    ("AF_INET6", "SOCK_STREAM", "IPPROTO_IPV6", "IPV6_V6ONLY", 1),
    ("AF_INET6", "SOCK_DGRAM", "IPPROTO_IPV6", "IPV6_UNICAST_HOPS", 9),
]


@pytest.mark.parametrize("fam,typ,level,option,value", INT_OPTIONS,
                         ids=[o[3] for o in INT_OPTIONS])
def test_int_option(sockd, fam, typ, level, option, value):
    py = socket.socket(getattr(socket, fam), getattr(socket, typ))
    lv, opt = getattr(socket, level), getattr(socket, option)
    default = py.getsockopt(lv, opt)
    py.setsockopt(lv, opt, value)
    want = py.getsockopt(lv, opt)
    py.close()
    c = sockd.client()
    h = new_socket(c, fam, typ)
    assert getopt(c, h, level, option) == default
    assert setopt(c, h, level, option, value=value) == {}
    assert getopt(c, h, level, option) == want
    # The same value as raw bytes.
    assert getopt(c, h, level, option, buflen=4) == struct.pack("i", want)


def test_option_as_data(sockd):
    c = sockd.client()
    h = new_socket(c)
    setopt(c, h, "SOL_SOCKET", "SO_REUSEADDR", data=struct.pack("i", 1))
    assert getopt(c, h, "SOL_SOCKET", "SO_REUSEADDR") == 1
    setopt(c, h, "SOL_SOCKET", "SO_REUSEADDR", data=struct.pack("i", 0))
    assert getopt(c, h, "SOL_SOCKET", "SO_REUSEADDR") == 0


def test_so_linger_struct(sockd):
    c = sockd.client()
    h = new_socket(c)
    py = socket.socket()
    py.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                  struct.pack("ii", 1, 7))
    want = py.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
    py.close()
    setopt(c, h, "SOL_SOCKET", "SO_LINGER", data=struct.pack("ii", 1, 7))
    assert getopt(c, h, "SOL_SOCKET", "SO_LINGER", buflen=8) == want
    assert struct.unpack("ii", want) == (1, 7)


@pytest.mark.parametrize("fam,typ", [("AF_INET", "SOCK_STREAM"),
                                     ("AF_INET", "SOCK_DGRAM"),
                                     ("AF_INET6", "SOCK_STREAM"),
                                     ("AF_UNIX", "SOCK_SEQPACKET")])
def test_so_type_and_so_error(sockd, fam, typ):
    c = sockd.client()
    h = new_socket(c, fam, typ)
    assert getopt(c, h, "SOL_SOCKET", "SO_TYPE") == getattr(socket, typ)
    assert getopt(c, h, "SOL_SOCKET", "SO_ERROR") == 0


def test_tcp_congestion_bytes(sockd):
    py = socket.socket()
    default = py.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
    py.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")
    want = py.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
    py.close()
    c = sockd.client()
    h = new_socket(c)
    assert getopt(c, h, "IPPROTO_TCP", "TCP_CONGESTION", 16) == default
    assert setopt(c, h, "IPPROTO_TCP", "TCP_CONGESTION", data=b"reno") == {}
    got = getopt(c, h, "IPPROTO_TCP", "TCP_CONGESTION", 16)
    assert got == want
    assert got.rstrip(b"\0") == b"reno"


def test_tcp_congestion_unknown_algorithm(sockd):
    py = socket.socket()
    want = py_errno(py.setsockopt, socket.IPPROTO_TCP,
                    socket.TCP_CONGESTION, b"no-such-algo")
    py.close()
    c = sockd.client()
    h = new_socket(c)
    expect_oserror(want, setopt, c, h, "IPPROTO_TCP", "TCP_CONGESTION",
                   data=b"no-such-algo")


def test_options_act_on_the_real_socket(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    setopt(c, h, "IPPROTO_TCP", "TCP_NODELAY", value=1)
    # Through the fd sockd hands out, the kernel reports the same option.
    (_, fds) = c.call_fds("io.sockd.FileNo", {"handle": h})
    s = socket.socket(fileno=fds[0])
    assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 33)
    assert getopt(c, h, "IPPROTO_IP", "IP_TTL") == 33
    s.close()
    peer.close()


def test_kernel_errors_pass_through(sockd):
    c = sockd.client()
    t = new_socket(c)
    u = new_socket(c, "AF_INET", "SOCK_DGRAM")
    py = socket.socket()
    pu = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    expect_oserror(py_errno(py.setsockopt, socket.IPPROTO_IP, socket.IP_TTL,
                            0), setopt, c, t, "IPPROTO_IP", "IP_TTL",
                   value=0)
    expect_oserror(py_errno(pu.setsockopt, socket.IPPROTO_TCP,
                            socket.TCP_NODELAY, 1),
                   setopt, c, u, "IPPROTO_TCP", "TCP_NODELAY", value=1)
    expect_oserror(py_errno(pu.getsockopt, socket.IPPROTO_TCP,
                            socket.TCP_NODELAY),
                   getopt, c, u, "IPPROTO_TCP", "TCP_NODELAY")
    py.close()
    pu.close()


def test_unknown_option_and_level(sockd):
    c = sockd.client()
    h = new_socket(c)
    expect_invalid("option", setopt, c, h, "SOL_SOCKET", "SO_NO_SUCH",
                   value=1)
    expect_invalid("option", getopt, c, h, "SOL_SOCKET", "SO_NO_SUCH")
    # An option of another level.
    expect_invalid("option", getopt, c, h, "SOL_SOCKET", "TCP_NODELAY")
    expect_invalid("level", getopt, c, h, "SOL_NO_SUCH", "SO_TYPE")
    expect_invalid("level", setopt, c, h, "SOL_NO_SUCH", "SO_TYPE", value=1)
    assert getopt(c, h, "SOL_SOCKET", "SO_TYPE") == socket.SOCK_STREAM


def test_option_without_a_value(sockd):
    c = sockd.client()
    h = new_socket(c)
    with pytest.raises(Exception) as ei:
        c.call("io.sockd.SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                                       "option": "SO_REUSEADDR"})
    e = ei.value
    assert e.error == "org.varlink.service.InvalidParameter" and \
        e.params["parameter"] in ("value", "data") or \
        (e.error, e.params.get("errno")) == ("io.sockd.OSError",
                                             errno.EINVAL), e
    assert getopt(c, h, "SOL_SOCKET", "SO_REUSEADDR") == 0
