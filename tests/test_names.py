"""Name resolution through sockd, compared with Python's own resolver."""
import socket

import pytest

from helpers import expect_error
from varlink import VarlinkError

EAI_NAMES = {getattr(socket, n): n for n in dir(socket)
             if n.startswith("EAI_")}


def gai(c, **params):
    return c.call("io.sockd.GetAddrInfo", params)["addresses"]


def as_set(entries):
    out = set()
    for e in entries:
        a = e["address"]
        assert a["family"] == e["family"]
        out.add((e["family"], e["type"], e["proto"], e["canonname"],
                 a["host"], a["port"]))
    return out


def py_set(*args, **kw):
    out = set()
    for fam, typ, proto, canon, sa in socket.getaddrinfo(*args, **kw):
        out.add((socket.AddressFamily(fam).name,
                 socket.SocketKind(typ).name, proto, canon, sa[0], sa[1]))
    return out


def py_gaierror(*args, **kw):
    try:
        socket.getaddrinfo(*args, **kw)
    except socket.gaierror as e:
        return e
    return None


def check_gai_same_as_python(c, params, py_args, py_kw):
    want_err = py_gaierror(*py_args, **py_kw)
    if want_err is None:
        got = gai(c, **params)
        assert got, "no addresses"
        assert as_set(got) == py_set(*py_args, **py_kw)
        return got
    e = expect_error("io.sockd.GAIError", gai, c, **params)
    assert e.params["code"] == want_err.errno
    assert e.params["name"] == EAI_NAMES[want_err.errno]
    assert isinstance(e.params["message"], str) and e.params["message"]
    return None


CASES = [
    ({"host": "127.0.0.1", "port": 80, "type": "SOCK_STREAM"},
     ("127.0.0.1", 80), {"type": socket.SOCK_STREAM}),
    ({"host": "127.0.0.1", "port": 53}, ("127.0.0.1", 53), {}),
    ({"host": "127.0.0.1", "port": 80, "family": "AF_INET"},
     ("127.0.0.1", 80), {"family": socket.AF_INET}),
    ({"host": "127.0.0.1", "port": 80, "family": "AF_INET6"},
     ("127.0.0.1", 80), {"family": socket.AF_INET6}),
    ({"host": "localhost", "port": 80, "family": "AF_INET"},
     ("localhost", 80), {"family": socket.AF_INET}),
    ({"host": "localhost", "port": 443, "family": "AF_INET6",
      "type": "SOCK_STREAM"},
     ("localhost", 443), {"family": socket.AF_INET6,
                          "type": socket.SOCK_STREAM}),
    ({"host": "localhost", "port": 80, "type": "SOCK_DGRAM"},
     ("localhost", 80), {"type": socket.SOCK_DGRAM}),
    ({"host": "::1", "port": 8080, "family": "AF_INET6"},
     ("::1", 8080), {"family": socket.AF_INET6}),
    ({"host": "::1", "port": 8080, "family": "AF_INET"},
     ("::1", 8080), {"family": socket.AF_INET}),
    ({"host": "::1", "port": 8080, "proto": socket.IPPROTO_UDP},
     ("::1", 8080), {"proto": socket.IPPROTO_UDP}),
    ({"host": "localhost", "port": 22, "family": "AF_INET",
      "type": "SOCK_STREAM", "flags": ["AI_CANONNAME"]},
     ("localhost", 22), {"family": socket.AF_INET,
                         "type": socket.SOCK_STREAM,
                         "flags": socket.AI_CANONNAME}),
    ({"port": 8080, "type": "SOCK_STREAM", "flags": ["AI_PASSIVE"]},
     (None, 8080), {"type": socket.SOCK_STREAM,
                    "flags": socket.AI_PASSIVE}),
    ({"port": 8080, "type": "SOCK_STREAM"},
     (None, 8080), {"type": socket.SOCK_STREAM}),
    ({"host": "127.0.0.1", "type": "SOCK_STREAM"},
     ("127.0.0.1", None), {"type": socket.SOCK_STREAM}),
    ({"host": "localhost", "port": 80, "type": "SOCK_STREAM",
      "flags": ["AI_NUMERICHOST"]},
     ("localhost", 80), {"type": socket.SOCK_STREAM,
                         "flags": socket.AI_NUMERICHOST}),
]


@pytest.mark.parametrize("params,py_args,py_kw", CASES,
                         ids=[str(i) for i in range(len(CASES))])
def test_getaddrinfo_like_python(sockd, params, py_args, py_kw):
    check_gai_same_as_python(sockd.client(), params, py_args, py_kw)


def test_getaddrinfo_numeric_address(sockd):
    got = gai(sockd.client(), host="127.0.0.1", port=80, type="SOCK_STREAM")
    assert len(got) == 1
    e = got[0]
    assert (e["family"], e["type"], e["proto"]) == \
        ("AF_INET", "SOCK_STREAM", socket.IPPROTO_TCP)
    assert e["address"] == {"family": "AF_INET", "host": "127.0.0.1",
                            "port": 80}


def test_gaierror_numerichost_is_offline(sockd):
    # AI_NUMERICHOST never asks DNS: EAI_NONAME with or without a network.
    c = sockd.client()
    e = expect_error("io.sockd.GAIError", gai, c, host="sockd-test.invalid",
                     port=80, flags=["AI_NUMERICHOST"])
    assert e.params["name"] == "EAI_NONAME"
    assert e.params["code"] == socket.EAI_NONAME
    assert isinstance(e.params["message"], str) and e.params["message"]


def test_gaierror_for_invalid_tld(sockd):
    c = sockd.client()
    e = expect_error("io.sockd.GAIError", gai, c,
                     host="no-such-name.sockd-test.invalid", port=80)
    try:
        socket.getaddrinfo("no-such-name.sockd-test.invalid", 80)
    except socket.gaierror as pe:
        assert e.params["code"] == pe.errno
        assert e.params["name"] == EAI_NAMES[pe.errno]
    else:
        raise AssertionError("Python resolved a name under .invalid")
    assert e.params["name"] in ("EAI_NONAME", "EAI_AGAIN", "EAI_FAIL")


def test_pipelined_lookups_keep_order(sockd):
    c = sockd.client()
    hosts = ["127.0.0.1", "::1", "localhost", "127.0.0.2"] * 5
    for i, h in enumerate(hosts):
        c.send_call("io.sockd.GetAddrInfo", {"host": h, "port": 1000 + i,
                                             "type": "SOCK_STREAM"})
    for i, h in enumerate(hosts):
        r = c.result(c.recv_msg())["addresses"]
        assert as_set(r) == py_set(h, 1000 + i, type=socket.SOCK_STREAM)


@pytest.mark.parametrize("addr,flags,py_sa,py_flags", [
    ({"family": "AF_INET", "host": "127.0.0.1", "port": 80},
     ["NI_NUMERICHOST"], ("127.0.0.1", 80), socket.NI_NUMERICHOST),
    ({"family": "AF_INET", "host": "127.0.0.1", "port": 80},
     ["NI_NUMERICHOST", "NI_NUMERICSERV"], ("127.0.0.1", 80),
     socket.NI_NUMERICHOST | socket.NI_NUMERICSERV),
    ({"family": "AF_INET", "host": "127.0.0.1", "port": 22}, [],
     ("127.0.0.1", 22), 0),
    ({"family": "AF_INET6", "host": "::1", "port": 8080},
     ["NI_NUMERICHOST", "NI_NUMERICSERV"], ("::1", 8080, 0, 0),
     socket.NI_NUMERICHOST | socket.NI_NUMERICSERV),
    ({"family": "AF_INET", "host": "127.0.0.1", "port": 53},
     ["NI_NUMERICHOST", "NI_DGRAM"], ("127.0.0.1", 53),
     socket.NI_NUMERICHOST | socket.NI_DGRAM),
])
def test_getnameinfo_like_python(sockd, addr, flags, py_sa, py_flags):
    want = socket.getnameinfo(py_sa, py_flags)
    r = sockd.client().call("io.sockd.GetNameInfo",
                            {"address": addr, "flags": flags})
    assert (r["host"], r["port"]) == want


def test_getnameinfo_namereqd(sockd):
    # NI_NAMEREQD: a name or an error, the same as Python gets.
    sa = ("127.0.0.1", 80)
    c = sockd.client()
    try:
        want = socket.getnameinfo(sa, socket.NI_NAMEREQD)
    except socket.gaierror as pe:
        e = expect_error("io.sockd.GAIError", c.call, "io.sockd.GetNameInfo",
                         {"address": {"family": "AF_INET", "host": sa[0],
                                      "port": sa[1]},
                          "flags": ["NI_NAMEREQD"]})
        assert e.params["code"] == pe.errno
    else:
        r = c.call("io.sockd.GetNameInfo",
                   {"address": {"family": "AF_INET", "host": sa[0],
                                "port": sa[1]}, "flags": ["NI_NAMEREQD"]})
        assert (r["host"], r["port"]) == want


def test_gethostbyaddr_like_python(sockd):
    want = socket.gethostbyaddr("127.0.0.1")
    r = sockd.client().call("io.sockd.GetHostByAddr", {"host": "127.0.0.1"})
    assert r["hostname"] == want[0]
    assert sorted(r["aliases"]) == sorted(want[1])
    assert sorted(r["addresses"]) == sorted(want[2])


def test_gethostbyaddr_unknown(sockd):
    # ::1 has no name in this system's hosts file; compare with Python.
    c = sockd.client()
    try:
        want = socket.gethostbyaddr("::1")
    except socket.herror as pe:
        with pytest.raises(VarlinkError) as ei:
            c.call("io.sockd.GetHostByAddr", {"host": "::1"})
        assert ei.value.error == "io.sockd.HError", ei.value
        assert ei.value.params["code"] == pe.errno
        assert isinstance(ei.value.params["message"], str)
    else:
        r = c.call("io.sockd.GetHostByAddr", {"host": "::1"})
        assert r["hostname"] == want[0]
