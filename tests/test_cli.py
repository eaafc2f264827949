"""The sockc command line, against a real sockd and real Python peers.

Every expected value comes from somewhere other than sockc: Python's socket
module (addresses, resolver answers, option values), the errno module and
os.strerror (error text), configure.ac (the version), the daemon's own
varlink replies (what a command did).
"""
import base64
import errno
import json
import os
import select
import socket
import subprocess
import threading
import time

import pytest

from cli import (COMPLETION, DAEMON, FAILED, OK, SOCKC, USAGE,
                 ac_init_version, check_sanitizer, fails, handle, inet_text, ok, ok_json,
                 ok_text, sockc, sockc_env)
from helpers import errno_names, free_port, peer_eof, py_listener, unique

SETPRIV = "/usr/bin/setpriv"
NOBODY = 65534

EAI_NAMES = {getattr(socket, n): n for n in dir(socket)
             if n.startswith("EAI_")}


# -- expectations from independent sources ---------------------------------

def oserror_text(op, num):
    """Python's wording of an OSError, as DESIGN.md spells it."""
    return f"sockc: {op}: [Errno {num}] {os.strerror(num)} " \
           f"({errno.errorcode[num]})"


def assert_oserror(err, op, num, context=False):
    """stderr is one line reporting errno num for op (any of its errno
    names); with context, the daemon's ": detail" may follow."""
    prefix = f"sockc: {op}: [Errno {num}] {os.strerror(num)} ("
    assert err.startswith(prefix), f"{err!r} does not start with {prefix!r}"
    name, rest = err[len(prefix):].split(")", 1)
    assert name in errno_names(num), f"{name!r} is not a name of {num}"
    assert err.endswith("\n") and err.count("\n") == 1, err
    if not context:
        assert rest == "\n", err


def py_text(sa):
    """A Python socket address as sockc prints it."""
    if isinstance(sa, str):
        return sa
    if isinstance(sa, bytes):            # abstract
        assert sa[:1] == b"\0"
        return "@" + sa[1:].decode()
    return inet_text(sa[0], sa[1])


def short_family(fam):
    return socket.AddressFamily(fam).name[len("AF_"):].lower()


def short_type(t):
    return socket.SocketKind(t).name[len("SOCK_"):].lower()


def d_entry(d, h):
    """The daemon's own List entry for handle h (None when gone)."""
    with d.client() as c:
        for e in c.call("io.sockd.List")["sockets"]:
            if e["handle"] == h:
                return e
    return None


def d_handles(d):
    with d.client() as c:
        return {e["handle"] for e in c.call("io.sockd.List")["sockets"]}


def d_call(d, method, params=None):
    with d.client() as c:
        return c.call("io.sockd." + method, params)


def accept_py(lst):
    s, _ = lst.accept()
    s.settimeout(10)
    return s


def sockc_connected(d, family=socket.AF_INET, host="127.0.0.1"):
    """A sockc handle connected to a Python peer: (handle, peer)."""
    lst = py_listener(family, host)
    h = handle(d, short_family(family), "stream")
    ok(d, "connect", h, inet_text(host, lst.getsockname()[1]))
    peer = accept_py(lst)
    lst.close()
    return h, peer


def table(text):
    """sockc list: the header and the rows as lists of cells."""
    lines = text.splitlines()
    return lines[0].split(), [ln.split() for ln in lines[1:]]


# -- socket ------------------------------------------------------------------

SPELLINGS = [
    (("inet", "stream"), socket.AF_INET, socket.SOCK_STREAM, 0),
    (("inet6", "dgram"), socket.AF_INET6, socket.SOCK_DGRAM, 0),
    (("unix", "stream"), socket.AF_UNIX, socket.SOCK_STREAM, 0),
    (("AF_INET", "SOCK_DGRAM"), socket.AF_INET, socket.SOCK_DGRAM, 0),
    (("AF_INET6", "SOCK_STREAM"), socket.AF_INET6, socket.SOCK_STREAM, 0),
    (("AF_UNIX", "SOCK_DGRAM"), socket.AF_UNIX, socket.SOCK_DGRAM, 0),
    (("Inet", "Stream"), socket.AF_INET, socket.SOCK_STREAM, 0),
    (("af_unix", "seqpacket"), socket.AF_UNIX, socket.SOCK_SEQPACKET, 0),
    (("inet", "stream", "tcp"), socket.AF_INET, socket.SOCK_STREAM,
     socket.IPPROTO_TCP),
    (("inet", "dgram", str(socket.IPPROTO_UDP)), socket.AF_INET,
     socket.SOCK_DGRAM, socket.IPPROTO_UDP),
]


def test_socket_spellings_print_only_the_handle(sockd):
    seen = set()
    for args, fam, typ, proto in SPELLINGS:
        h = handle(sockd, *args)      # asserts stdout is "N\n" only
        assert h not in seen
        seen.add(h)
        e = d_entry(sockd, h)
        assert e is not None, f"socket {args}: handle {h} not in sockd"
        assert e["family"] == socket.AddressFamily(fam).name, args
        assert e["type"] == socket.SocketKind(typ).name, args
        # Same as the kernel gives Python for the same call.
        with socket.socket(fam, typ, proto) as py:
            assert e["proto"] in (proto, py.proto), args
        # The socket outlives the sockc run that made it.
        assert e["persistent"] is True
    assert d_handles(sockd) == seen
    obj = ok_json(sockd, "socket", "inet", "stream")
    assert set(obj) == {"handle"} and isinstance(obj["handle"], int)
    assert obj["handle"] not in seen and obj["handle"] in d_handles(sockd)


def test_socket_name_is_set(sockd):
    h = handle(sockd, "inet", "stream", "--name", "web")
    assert d_entry(sockd, h)["name"] == "web"
    obj = ok_json(sockd, "socket", "unix", "dgram", "--name=other")
    assert d_entry(sockd, obj["handle"])["name"] == "other"


# -- names wherever numbers --------------------------------------------------

def test_named_handle_through_its_life(sockd):
    h = handle(sockd, "inet", "stream", "--name", "web")
    assert ok(sockd, "bind", "web", "127.0.0.1:0") == b""
    assert ok(sockd, "listen", "web") == b""
    assert ok(sockd, "settimeout", "web", "3") == b""
    assert float(ok_text(sockd, "gettimeout", "web")) == 3.0
    assert ok(sockd, "setsockopt", "web", "socket", "reuseaddr", "1") == b""
    assert ok_text(sockd, "getsockopt", "web", "socket", "SO_REUSEADDR") \
        == "1\n"
    printed = ok_text(sockd, "getsockname", "web").strip()
    # Python's view: the address it reaches when it connects there.
    port = d_call(sockd, "GetSockName", {"handle": h})["address"]["port"]
    cl = socket.create_connection(("127.0.0.1", port), timeout=10)
    assert printed == py_text(cl.getpeername())
    assert ok_text(sockd, "poll", "web", "--timeout", "5") == f"{h} in\n"
    head, rows = table(ok_text(sockd, "list"))
    row = [r for r in rows if r[0] == str(h)]
    assert len(row) == 1
    assert row[0][head.index("NAME")] == "web"
    assert row[0][head.index("STATE")] == "listening"
    assert row[0][head.index("LOCAL")] == py_text(cl.getpeername())
    cl.close()
    assert ok(sockd, "close", "web") == b""
    assert d_entry(sockd, h) is None
    err = fails(sockd, FAILED, "getsockname", "web")
    assert err == "sockc: no handle named 'web'\n"


def test_name_that_reads_as_a_number(sockd):
    """A name made of digits would be shadowed by handle numbers: sockd
    refuses it (InvalidParameter), so sockc fails and makes nothing."""
    rc, out, err = sockc(sockd, "socket", "inet", "stream", "--name", "42")
    assert rc == 1, err
    assert out == b""
    assert "name" in err
    assert d_handles(sockd) == set()


@pytest.mark.parametrize("args", [
    ("bind", "nosuch", "127.0.0.1:0"),
    ("close", "nosuch"),
    ("getsockname", "nosuch"),
    ("poll", "nosuch", "--timeout", "0"),
])
def test_unknown_name_fails(sockd, args):
    handle(sockd, "inet", "stream", "--name", "such")
    err = fails(sockd, FAILED, *args)
    assert "no handle named 'nosuch'" in err


# -- TCP over IPv4 and IPv6 ----------------------------------------------------

FAMILIES = [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]


@pytest.mark.parametrize("family,host", FAMILIES, ids=["inet", "inet6"])
def test_tcp_client(sockd, family, host):
    lst = py_listener(family, host)
    h = handle(sockd, short_family(family), "stream")
    assert ok(sockd, "connect", h, py_text(lst.getsockname())) == b""
    peer = accept_py(lst)
    # Addresses, as the Python peer sees them.
    assert ok_text(sockd, "getsockname", h) == \
        py_text(peer.getpeername()) + "\n"
    assert ok_text(sockd, "getpeername", h) == \
        py_text(peer.getsockname()) + "\n"
    obj = ok_json(sockd, "getsockname", h)
    assert set(obj) == {"address"}
    assert (obj["address"]["host"], obj["address"]["port"]) == \
        peer.getpeername()[:2]
    assert obj["address"]["family"] == socket.AddressFamily(family).name
    obj = ok_json(sockd, "getpeername", h)
    assert (obj["address"]["host"], obj["address"]["port"]) == \
        peer.getsockname()[:2]

    # send DATA, send -, sendall DATA, sendall - (binary, NULs included).
    assert ok_text(sockd, "send", h, "hello") == "5\n"
    assert recv_n(peer, 5) == b"hello"
    blob = bytes(range(256)) * 3 + b"\0\0\xff"
    assert ok_text(sockd, "send", h, "-", input=blob) == f"{len(blob)}\n"
    assert recv_n(peer, len(blob)) == blob
    assert ok(sockd, "sendall", h, "all of it") == b""
    assert recv_n(peer, 9) == b"all of it"
    big = os.urandom(300_000) + b"\0"
    assert ok(sockd, "sendall", h, "-", input=big) == b""
    assert recv_n(peer, len(big)) == big
    assert ok(sockd, "sendall", h, "--", "-dash") == b""
    assert recv_n(peer, 5) == b"-dash"
    assert ok_json(sockd, "send", h, "json") == {"sent": 4}
    assert recv_n(peer, 4) == b"json"
    assert ok_json(sockd, "sendall", h, "-", input=b"\x00j") == {}
    assert recv_n(peer, 2) == b"\x00j"

    # recv writes the raw bytes.
    peer.sendall(b"\x00\x01\xfe\xff back")
    got = recv_cli(sockd, h, 9)
    assert got == b"\x00\x01\xfe\xff back"
    peer.sendall(b"\xff\x00tail")
    obj = ok_json(sockd, "recv", h, 100)
    assert set(obj) == {"data"}
    assert base64.b64decode(obj["data"]) == b"\xff\x00tail"
    # recvfrom on a connected stream: no address, stderr empty.
    peer.sendall(b"rf\x00")
    rc, out, err = sockc(sockd, "recvfrom", h, 100)
    assert (rc, out, err) == (OK, b"rf\x00", "")

    # shutdown wr: the peer sees EOF and can still send.
    assert ok(sockd, "shutdown", h, "wr") == b""
    assert peer_eof(peer)
    peer.sendall(b"after")
    assert recv_cli(sockd, h, 5) == b"after"
    peer.close()
    # The end of the stream: nothing written, status 0.
    assert ok(sockd, "recv", h, 100) == b""
    lst.close()


def recv_n(sock, n):
    out = b""
    sock.settimeout(10)
    while len(out) < n:
        b = sock.recv(n - len(out))
        assert b, f"EOF after {len(out)} of {n} bytes"
        out += b
    return out


def recv_cli(d, h, n):
    """recv through sockc until n bytes arrived."""
    out = b""
    deadline = time.monotonic() + 10
    while len(out) < n and time.monotonic() < deadline:
        b = ok(d, "recv", h, n - len(out))
        assert b, "unexpected end of stream"
        out += b
    return out


def test_json_after_the_command(sockd):
    h, peer = sockc_connected(sockd)
    out = ok(sockd, "getpeername", h, "--json")
    obj = json.loads(out)
    assert (obj["address"]["host"], obj["address"]["port"]) == \
        peer.getsockname()
    assert json.loads(ok(sockd, "send", h, "abc", "--json")) == {"sent": 3}
    assert recv_n(peer, 3) == b"abc"
    peer.close()


def test_sendall_stdin_in_chunks(sockd):
    """More than two 4 MiB chunks of standard input arrive whole."""
    h, peer = sockc_connected(sockd)
    data = os.urandom((8 << 20) + 1)
    got = []
    t = threading.Thread(target=lambda: got.append(recv_n(peer, len(data))))
    t.start()
    assert ok(sockd, "sendall", h, "-", input=data) == b""
    t.join(20)
    assert got and got[0] == data
    ok(sockd, "shutdown", h, "wr")
    assert peer_eof(peer)
    peer.close()


def test_tcp_json_replies_are_empty_objects(sockd):
    """The commands whose replies say nothing print {} with --json, and
    do what they should (checked through sockd and Python)."""
    h = ok_json(sockd, "socket", "inet", "stream")["handle"]
    assert ok_json(sockd, "setsockopt", h, "socket", "reuseaddr", "1") == {}
    assert ok_json(sockd, "bind", h, "127.0.0.1:0") == {}
    assert ok_json(sockd, "listen", h, "4") == {}
    assert ok_json(sockd, "settimeout", h, "5") == {}
    port = d_call(sockd, "GetSockName", {"handle": h})["address"]["port"]
    cl = socket.create_connection(("127.0.0.1", port), timeout=10)
    obj = ok_json(sockd, "accept", h)
    assert set(obj) >= {"handle", "address"}
    a = obj["handle"]
    assert (obj["address"]["host"], obj["address"]["port"]) == \
        cl.getsockname()
    assert ok_json(sockd, "setblocking", a, "1") == {}
    assert d_call(sockd, "GetTimeout", {"handle": a})["timeout"] is None
    assert ok_json(sockd, "shutdown", a, "wr") == {}
    assert peer_eof(cl)
    assert ok_json(sockd, "close", a, h) == {}
    assert d_handles(sockd) == set()
    cl.close()


@pytest.mark.parametrize("family,host", FAMILIES, ids=["inet", "inet6"])
def test_tcp_server_accept(sockd, family, host):
    lst = handle(sockd, short_family(family), "stream")
    ok(sockd, "bind", lst, inet_text(host, 0))
    ok(sockd, "listen", lst)
    port = d_call(sockd, "GetSockName", {"handle": lst})["address"]["port"]
    cl = socket.socket(family, socket.SOCK_STREAM)
    cl.settimeout(10)
    cl.connect((host, port))
    out = ok_text(sockd, "accept", lst)
    num, addr = out.split()
    assert out.endswith("\n") and out.count("\n") == 1
    assert addr == py_text(cl.getsockname())
    a = int(num)
    assert a != lst and a in d_handles(sockd)
    assert d_entry(sockd, a)["persistent"] is True
    assert ok_text(sockd, "getpeername", a) == py_text(cl.getsockname()) \
        + "\n"
    cl.sendall(b"ping")
    assert recv_cli(sockd, a, 4) == b"ping"
    ok(sockd, "sendall", a, "pong")
    assert recv_n(cl, 4) == b"pong"
    cl.close()


@pytest.mark.parametrize("family,spec,any_host,lo", [
    (socket.AF_INET, "*:0", "0.0.0.0", "127.0.0.1"),
    (socket.AF_INET, ":0", "0.0.0.0", "127.0.0.1"),
    (socket.AF_INET6, ":0", "::", "::1"),
], ids=["inet-star", "inet-empty", "inet6-empty"])
def test_bind_every_address(sockd, family, spec, any_host, lo):
    h = handle(sockd, short_family(family), "stream")
    ok(sockd, "bind", h, spec)
    ok(sockd, "listen", h)
    port = d_call(sockd, "GetSockName", {"handle": h})["address"]["port"]
    assert ok_text(sockd, "getsockname", h) == inet_text(any_host, port) \
        + "\n"
    # Python reaches it on the loopback address.
    cl = socket.socket(family, socket.SOCK_STREAM)
    cl.settimeout(10)
    cl.connect((lo, port))
    assert ok_text(sockd, "accept", h).split()[1] == \
        py_text(cl.getsockname())
    cl.close()


def test_accept_timeout(sockd):
    lst = handle(sockd, "inet", "stream")
    ok(sockd, "bind", lst, "127.0.0.1:0")
    ok(sockd, "listen", lst)
    ok(sockd, "settimeout", lst, "0.3")
    t0 = time.monotonic()
    err = fails(sockd, FAILED, "accept", lst)
    assert 0.25 <= time.monotonic() - t0 < 8
    assert err == "sockc: accept: timed out\n"


# -- Unix sockets --------------------------------------------------------------

def test_unix_stream_paths(sockd, tmpdir_short):
    srv_path = os.path.join(tmpdir_short, "srv")
    cl_path = os.path.join(tmpdir_short, "cl")
    lst = handle(sockd, "unix", "stream")
    assert ok(sockd, "bind", lst, srv_path) == b""
    ok(sockd, "listen", lst)
    assert ok_text(sockd, "getsockname", lst) == srv_path + "\n"
    head, rows = table(ok_text(sockd, "list"))
    row = dict(zip(head, rows[0]))
    assert (row["HANDLE"], row["FAMILY"], row["STATE"], row["LOCAL"]) == \
        (str(lst), short_family(socket.AF_UNIX), "listening", srv_path)
    cl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cl.settimeout(10)
    cl.bind(cl_path)
    cl.connect(srv_path)
    num, addr = ok_text(sockd, "accept", lst).split()
    assert addr == cl.getsockname() == cl_path
    a = int(num)
    assert ok_text(sockd, "getpeername", a) == cl_path + "\n"
    obj = ok_json(sockd, "getsockname", a)
    assert obj["address"] == {"family": "AF_UNIX", "path": srv_path}
    cl.sendall(b"\x00unix\xff")
    assert recv_cli(sockd, a, 6) == b"\x00unix\xff"
    ok(sockd, "sendall", a, "-", input=b"\xffback\x00")
    assert recv_n(cl, 6) == b"\xffback\x00"
    cl.close()

    # sockc as the client of a Python listener on a path.
    py_path = os.path.join(tmpdir_short, "py")
    pl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    pl.bind(py_path)
    pl.listen(1)
    pl.settimeout(10)
    h = handle(sockd, "unix", "stream")
    assert ok(sockd, "connect", h, py_path) == b""
    peer = accept_py(pl)
    assert ok_text(sockd, "getpeername", h) == peer.getsockname() + "\n"
    peer.close()
    pl.close()


def test_unix_abstract(sockd):
    name = unique("sockc-cli")
    pl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    pl.bind("\0" + name)
    pl.listen(1)
    pl.settimeout(10)
    h = handle(sockd, "unix", "stream")
    ok(sockd, "connect", h, "@" + name)
    peer = accept_py(pl)
    assert ok_text(sockd, "getpeername", h) == \
        py_text(peer.getsockname()) + "\n"
    assert ok_text(sockd, "send", h, "abs") == "3\n"
    assert recv_n(peer, 3) == b"abs"
    peer.close()
    pl.close()


def test_unix_dgram_sendto_recvfrom(sockd, tmpdir_short):
    mine = os.path.join(tmpdir_short, "mine")
    theirs = os.path.join(tmpdir_short, "theirs")
    py = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    py.bind(theirs)
    py.settimeout(10)
    h = handle(sockd, "unix", "dgram")
    ok(sockd, "bind", h, mine)
    assert ok_text(sockd, "sendto", h, theirs, "-", input=b"\x00dg\xff") \
        == "4\n"
    data, sender = py.recvfrom(100)
    assert (data, sender) == (b"\x00dg\xff", mine)
    py.sendto(b"\xfereply\x00", mine)
    rc, out, err = sockc(sockd, "recvfrom", h, 100)
    assert (rc, out) == (OK, b"\xfereply\x00")
    assert err == py.getsockname() + "\n"
    py.close()


def test_unix_names_that_are_not_utf8(sockd, tmpdir_short):
    """A path that is not UTF-8 goes to sockd as path_base64 (messages are
    UTF-8), arrives as the same bytes, comes back in --json as base64 and
    is printed escaped."""
    theirs = os.fsencode(tmpdir_short) + b"/\xff\xfe.sock"
    mine = os.fsencode(tmpdir_short) + b"/m\xe9"
    py = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    py.bind(theirs)
    py.settimeout(10)
    h = handle(sockd, "unix", "dgram")
    ok(sockd, "bind", h, os.fsdecode(mine))
    assert ok_text(sockd, "sendto", h, os.fsdecode(theirs), "hi") == "2\n"
    data, sender = py.recvfrom(100)
    assert (data, os.fsencode(sender)) == (b"hi", mine)
    obj = ok_json(sockd, "getsockname", h)
    assert base64.b64decode(obj["address"]["path_base64"]) == mine
    assert "path" not in obj["address"], obj
    assert ok_text(sockd, "getsockname", h) == tmpdir_short + "/m\\xe9\n"
    py.close()


# -- UDP -------------------------------------------------------------------------

@pytest.mark.parametrize("family,host", FAMILIES, ids=["inet", "inet6"])
def test_udp_sendto_recvfrom(sockd, family, host):
    py = socket.socket(family, socket.SOCK_DGRAM)
    py.bind((host, 0))
    py.settimeout(10)
    h = handle(sockd, short_family(family), "dgram")
    ok(sockd, "bind", h, inet_text(host, 0))
    mine = ok_text(sockd, "getsockname", h).strip()
    assert ok_text(sockd, "sendto", h, py_text(py.getsockname()), "hi") \
        == "2\n"
    data, sender = py.recvfrom(100)
    assert data == b"hi" and py_text(sender) == mine
    payload = bytes(range(256))
    assert ok_text(sockd, "sendto", h, py_text(py.getsockname()), "-",
                   input=payload) == "256\n"
    assert py.recvfrom(1000) == (payload, sender)
    obj = ok_json(sockd, "sendto", h, py_text(py.getsockname()), "j")
    assert obj == {"sent": 1}
    assert py.recv(10) == b"j"

    # recvfrom: bytes on stdout, the sender's address on stderr.
    py.sendto(b"\x00\xffdata", sender)
    rc, out, err = sockc(sockd, "recvfrom", h, 100)
    assert (rc, out) == (OK, b"\x00\xffdata")
    assert err == py_text(py.getsockname()) + "\n"
    py.sendto(b"\x01json", sender)
    obj = ok_json(sockd, "recvfrom", h, 100)
    assert set(obj) == {"data", "address"}
    assert base64.b64decode(obj["data"]) == b"\x01json"
    assert (obj["address"]["host"], obj["address"]["port"]) == \
        py.getsockname()[:2]
    # recv BUFSIZE truncates a datagram as the kernel does for Python.
    py.sendto(b"0123456789", sender)
    assert ok(sockd, "recv", h, 4) == b"0123"
    py.close()


# -- connect errors, connect-ex ------------------------------------------------

def test_connect_refused_exact_message(sockd):
    closed = free_port()
    port = closed.getsockname()[1]
    with socket.socket() as py:          # Python gets the same refusal
        with pytest.raises(ConnectionRefusedError):
            py.connect(("127.0.0.1", port))
    h = handle(sockd, "inet", "stream")
    err = fails(sockd, FAILED, "connect", h, f"127.0.0.1:{port}")
    assert err == oserror_text("connect", errno.ECONNREFUSED) + "\n"
    assert err == "sockc: connect: [Errno 111] Connection refused " \
                  "(ECONNREFUSED)\n"
    closed.close()


def test_connect_ex(sockd):
    closed = free_port()
    port = closed.getsockname()[1]
    h = handle(sockd, "inet", "stream")
    rc, out, err = sockc(sockd, "connect-ex", h, f"127.0.0.1:{port}")
    assert (rc, err) == (OK, "")
    assert out.decode() == f"{errno.ECONNREFUSED} ECONNREFUSED\n"
    h2 = handle(sockd, "inet", "stream")
    obj = ok_json(sockd, "connect-ex", h2, f"127.0.0.1:{port}")
    assert obj["errno"] == errno.ECONNREFUSED
    assert obj["name"] in errno_names(errno.ECONNREFUSED)
    lst = py_listener()
    h3 = handle(sockd, "inet", "stream")
    assert ok_text(sockd, "connect-ex", h3, py_text(lst.getsockname())) \
        == "0\n"
    peer = accept_py(lst)
    assert ok_text(sockd, "getsockname", h3) == \
        py_text(peer.getpeername()) + "\n"
    h4 = handle(sockd, "inet", "stream")
    obj = ok_json(sockd, "connect-ex", h4, py_text(lst.getsockname()))
    assert obj["errno"] == 0
    peer.close()
    lst.close()
    closed.close()


def test_connect_by_host_name(sockd):
    lst = py_listener()
    port = lst.getsockname()[1]
    h = handle(sockd, "inet", "stream")
    ok(sockd, "connect", h, f"localhost:{port}")
    peer = accept_py(lst)
    assert ok_text(sockd, "getpeername", h) == \
        py_text(peer.getsockname()) + "\n"
    peer.close()
    lst.close()


def test_connect_unresolvable_names_eai_code(sockd):
    host = "no-such-host.invalid"
    with pytest.raises(socket.gaierror) as ei:
        socket.getaddrinfo(host, 80, socket.AF_INET, socket.SOCK_STREAM)
    h = handle(sockd, "inet", "stream")
    err = fails(sockd, FAILED, "connect", h, f"{host}:80")
    assert f"[{EAI_NAMES[ei.value.errno]}]" in err


# -- timeouts ------------------------------------------------------------------

def test_settimeout_gettimeout_setblocking(sockd):
    h = handle(sockd, "inet", "dgram")
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    assert py.gettimeout() is None
    assert ok_text(sockd, "gettimeout", h) == "none\n"
    assert ok_json(sockd, "gettimeout", h) == {"timeout": None}
    for text, value in (("2.5", 2.5), ("0.25", 0.25), ("7", 7.0),
                        ("none", None), ("0", 0.0)):
        py.settimeout(value)
        assert ok(sockd, "settimeout", h, text) == b""
        out = ok_text(sockd, "gettimeout", h).strip()
        if py.gettimeout() is None:
            assert out == "none"
        else:
            assert float(out) == py.gettimeout()
        assert d_call(sockd, "GetTimeout", {"handle": h})["timeout"] == \
            py.gettimeout()
        assert ok_json(sockd, "gettimeout", h) == \
            {"timeout": py.gettimeout()}
    for flag, blocking in (("0", False), ("1", True), ("0", False)):
        py.setblocking(blocking)
        assert ok(sockd, "setblocking", h, flag) == b""
        out = ok_text(sockd, "gettimeout", h).strip()
        want = py.gettimeout()
        assert (out == "none") if want is None else float(out) == want
    py.close()


@pytest.mark.parametrize("seconds", ["10", "3600"])
def test_gettimeout_prints_plain_seconds(sockd, seconds):
    """Whole numbers of seconds read as Python prints them, not in
    exponent form ("1e+01")."""
    h = handle(sockd, "inet", "stream")
    py = socket.socket()
    py.settimeout(float(seconds))
    ok(sockd, "settimeout", h, seconds)
    assert ok_text(sockd, "gettimeout", h) == f"{py.gettimeout()}\n"
    head, rows = table(ok_text(sockd, "list"))
    assert rows[0][head.index("TIMEOUT")] == str(py.gettimeout())
    py.close()


def test_nonblocking_recv_eagain_and_timeout(sockd):
    h = handle(sockd, "inet", "dgram")
    ok(sockd, "bind", h, "127.0.0.1:0")
    ok(sockd, "setblocking", h, "0")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as py:
        py.bind(("127.0.0.1", 0))
        py.setblocking(False)
        with pytest.raises(BlockingIOError) as ei:
            py.recv(10)
    err = fails(sockd, FAILED, "recv", h, 10)
    assert_oserror(err, "recv", ei.value.errno)
    ok(sockd, "settimeout", h, "0.3")
    t0 = time.monotonic()
    err = fails(sockd, FAILED, "recv", h, 10)
    assert 0.25 <= time.monotonic() - t0 < 8
    assert err == "sockc: recv: timed out\n"


# -- socket options --------------------------------------------------------------

def test_int_socket_options(sockd):
    h = handle(sockd, "inet", "stream")
    py = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A fresh socket: the same defaults Python's has.
    for level, opt, lv, ov in (
            ("socket", "reuseaddr", socket.SOL_SOCKET, socket.SO_REUSEADDR),
            ("tcp", "nodelay", socket.IPPROTO_TCP, socket.TCP_NODELAY),
            ("SOL_SOCKET", "SO_TYPE", socket.SOL_SOCKET, socket.SO_TYPE)):
        assert ok_text(sockd, "getsockopt", h, level, opt) == \
            f"{py.getsockopt(lv, ov)}\n"
    for level, opt, value, lv, ov, dlevel, dopt in (
            ("socket", "SO_REUSEADDR", "1", socket.SOL_SOCKET,
             socket.SO_REUSEADDR, "SOL_SOCKET", "SO_REUSEADDR"),
            ("IPPROTO_TCP", "TCP_NODELAY", "1", socket.IPPROTO_TCP,
             socket.TCP_NODELAY, "IPPROTO_TCP", "TCP_NODELAY"),
            ("socket", "rcvbuf", "0x10000", socket.SOL_SOCKET,
             socket.SO_RCVBUF, "SOL_SOCKET", "SO_RCVBUF"),
            ("ip", "ttl", "33", socket.IPPROTO_IP, socket.IP_TTL,
             "IPPROTO_IP", "IP_TTL")):
        py.setsockopt(lv, ov, int(value, 0))
        assert ok(sockd, "setsockopt", h, level, opt, value) == b""
        want = py.getsockopt(lv, ov)
        assert ok_text(sockd, "getsockopt", h, level, opt) == f"{want}\n"
        # What the daemon itself reads back.
        got = d_call(sockd, "GetSockOpt", {"handle": h, "level": dlevel,
                                           "option": dopt})
        assert got["value"] == want
        assert ok_json(sockd, "getsockopt", h, level, opt) == {"value": want}
    py.close()


def test_bytes_socket_option_linger(sockd):
    import struct
    h = handle(sockd, "inet", "stream")
    py = socket.socket()
    want = py.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
    assert ok_text(sockd, "getsockopt", h, "socket", "linger", "8") == \
        "hex:" + want.hex() + "\n"
    value = struct.pack("ii", 1, 5)
    py.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, value)
    want = py.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
    assert ok(sockd, "setsockopt", h, "socket", "SO_LINGER",
              "hex:" + value.hex()) == b""
    assert ok_text(sockd, "getsockopt", h, "socket", "linger", "8") == \
        "hex:" + want.hex() + "\n"
    got = d_call(sockd, "GetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                                       "option": "SO_LINGER", "buflen": 8})
    assert base64.b64decode(got["data"]) == want
    # Without BUFLEN: the first int, l_onoff.
    assert ok_text(sockd, "getsockopt", h, "socket", "linger") == \
        f"{py.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER)}\n"
    py.close()


def allowed_congestion():
    with open("/proc/sys/net/ipv4/tcp_allowed_congestion_control") as f:
        return f.read().split()


def test_tcp_congestion_bytes(sockd):
    h = handle(sockd, "inet", "stream")
    py = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    cur = py.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
    assert ok_text(sockd, "getsockopt", h, "tcp", "congestion", "16") == \
        cur.rstrip(b"\0").decode() + "\n"
    # Another algorithm this kernel lets anyone pick (the same when there
    # is only one).
    allowed = allowed_congestion()
    assert allowed, "no allowed congestion control"
    other = [a for a in allowed if a.encode() != cur.rstrip(b"\0")]
    algo = (other or allowed)[0]
    py.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, algo.encode())
    want = py.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
    assert want.rstrip(b"\0") == algo.encode()
    assert ok(sockd, "setsockopt", h, "tcp", "TCP_CONGESTION", algo) == b""
    assert ok_text(sockd, "getsockopt", h, "IPPROTO_TCP", "TCP_CONGESTION",
                   "16") == algo + "\n"
    obj = ok_json(sockd, "getsockopt", h, "tcp", "congestion", "16")
    assert set(obj) == {"data"}
    assert base64.b64decode(obj["data"]) == want
    # str: forces text; the kernel stores the same name.
    assert ok(sockd, "setsockopt", h, "tcp", "congestion",
              "str:" + algo) == b""
    got = d_call(sockd, "GetSockOpt", {"handle": h, "level": "IPPROTO_TCP",
                                       "option": "TCP_CONGESTION",
                                       "buflen": 16})
    assert base64.b64decode(got["data"]) == want
    py.close()


def test_setsockopt_kernel_error(sockd):
    h = handle(sockd, "inet", "stream")
    with socket.socket() as py:
        with pytest.raises(OSError) as ei:
            py.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION,
                          b"no-such-algo")
    err = fails(sockd, FAILED, "setsockopt", h, "tcp", "congestion",
                "no-such-algo")
    assert_oserror(err, "setsockopt", ei.value.errno, context=True)


def py_fail_errno(fn):
    try:
        fn()
    except OSError as e:
        return e.errno
    raise AssertionError(f"{fn} succeeded in Python")


def test_kernel_errors_read_like_python(sockd):
    """Each failure exits 1 with the errno Python gets for the same call
    on a socket in the same state."""
    busy = py_listener()
    busy_port = busy.getsockname()[1]
    cases = []

    def case(fam, typ, setup, py_call, args):
        cases.append((fam, typ, setup, py_call, args))

    # getpeername on an unconnected socket.
    case(socket.AF_INET, socket.SOCK_STREAM, [], lambda s: s.getpeername(),
         lambda h: ["getpeername", h])
    # accept on a socket that does not listen.
    case(socket.AF_INET, socket.SOCK_STREAM, [],
         lambda s: s.accept(), lambda h: ["accept", h])
    # listen on a datagram socket.
    case(socket.AF_INET, socket.SOCK_DGRAM, [],
         lambda s: s.listen(), lambda h: ["listen", h])
    # bind to a port a Python listener holds.
    case(socket.AF_INET, socket.SOCK_STREAM, [],
         lambda s: s.bind(("127.0.0.1", busy_port)),
         lambda h: ["bind", h, f"127.0.0.1:{busy_port}"])
    # shutdown of an unconnected stream.
    case(socket.AF_INET, socket.SOCK_STREAM, [],
         lambda s: s.shutdown(socket.SHUT_RDWR),
         lambda h: ["shutdown", h, "rdwr"])
    # bind twice.
    case(socket.AF_INET, socket.SOCK_DGRAM, [("127.0.0.1", 0)],
         lambda s: s.bind(("127.0.0.1", 0)),
         lambda h: ["bind", h, "127.0.0.1:0"])
    # a Unix path in a directory that does not exist.
    case(socket.AF_UNIX, socket.SOCK_STREAM, [],
         lambda s: s.connect("/nonexistent-dir/x"),
         lambda h: ["connect", h, "/nonexistent-dir/x"])

    for fam, typ, binds, py_call, args in cases:
        with socket.socket(fam, typ) as py:
            for b in binds:
                py.bind(b)
            want = py_fail_errno(lambda: py_call(py))
        h = handle(sockd, short_family(fam), short_type(typ))
        for b in binds:
            ok(sockd, "bind", h, inet_text(*b))
        argv = args(h)
        err = fails(sockd, FAILED, *argv)
        assert_oserror(err, argv[0], want, context=True)
    busy.close()


# -- close -------------------------------------------------------------------------

def test_close_several_then_ebadf(sockd):
    hs = [handle(sockd, "inet", "stream") for _ in range(3)]
    keep = handle(sockd, "inet", "dgram")
    assert ok(sockd, "close", *hs) == b""
    assert d_handles(sockd) == {keep}
    for h in hs:
        err = fails(sockd, FAILED, "getsockname", h)
        assert err.startswith(oserror_text("getsockname", errno.EBADF)), err
        err = fails(sockd, FAILED, "close", h)
        assert err.startswith(oserror_text("close", errno.EBADF)), err


def test_close_goes_on_after_a_failure(sockd):
    a = handle(sockd, "inet", "stream")
    b = handle(sockd, "unix", "stream")
    missing = max(a, b) + 1000
    rc, out, err = sockc(sockd, "close", a, missing, b)
    assert rc == FAILED and out == b""
    assert err.startswith(oserror_text("close", errno.EBADF)), err
    assert err.count("\n") == 1
    assert d_handles(sockd) == set()


# -- name lookups -------------------------------------------------------------------

def gai_lines(*args, **kw):
    out = []
    for fam, typ, _proto, canon, sa in socket.getaddrinfo(*args, **kw):
        line = f"{short_family(fam)} {short_type(typ)} {py_text(sa)}"
        out.append(line + (f" {canon}" if canon else ""))
    return out


GAI_CASES = [
    (["127.0.0.1", "80"], ("127.0.0.1", 80), {}),
    (["::1", "443", "--type", "stream"], ("::1", 443),
     {"type": socket.SOCK_STREAM}),
    (["localhost", "http", "--family", "inet"], ("localhost", 80),
     {"family": socket.AF_INET}),
    (["localhost", "53", "--family", "AF_INET", "--type", "SOCK_DGRAM",
      "--flags", "canonname"], ("localhost", 53),
     {"family": socket.AF_INET, "type": socket.SOCK_DGRAM,
      "flags": socket.AI_CANONNAME}),
    (["", "80"], (None, 80), {}),
    (["", "8080", "--flags", "passive", "--type", "dgram"], (None, 8080),
     {"type": socket.SOCK_DGRAM, "flags": socket.AI_PASSIVE}),
    (["127.0.0.1", "--flags", "AI_NUMERICHOST,numericserv"],
     ("127.0.0.1", None),
     {"flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV}),
]


@pytest.mark.parametrize("args,py_args,py_kw", GAI_CASES,
                         ids=[" ".join(c[0]) or "empty" for c in GAI_CASES])
def test_getaddrinfo_same_as_python(sockd, args, py_args, py_kw):
    want = gai_lines(*py_args, **py_kw)
    assert want
    assert ok_text(sockd, "getaddrinfo", *args).splitlines() == want
    obj = ok_json(sockd, "getaddrinfo", *args)
    assert set(obj) == {"addresses"}
    got = [(e["family"], e["type"], e["address"]["host"],
            e["address"]["port"]) for e in obj["addresses"]]
    assert got == [(socket.AddressFamily(f).name, socket.SocketKind(t).name,
                    sa[0], sa[1])
                   for f, t, _p, _c, sa in socket.getaddrinfo(*py_args,
                                                              **py_kw)]


@pytest.mark.parametrize("args,py_args,py_kw", [
    (["no-such-host.invalid", "80"], ("no-such-host.invalid", 80), {}),
    (["localhost", "--flags", "numerichost"], ("localhost", None),
     {"flags": socket.AI_NUMERICHOST}),
], ids=["invalid", "numerichost"])
def test_getaddrinfo_failure_names_eai_code(sockd, args, py_args, py_kw):
    with pytest.raises(socket.gaierror) as ei:
        socket.getaddrinfo(*py_args, **py_kw)
    err = fails(sockd, FAILED, "getaddrinfo", *args)
    assert err == f"sockc: getaddrinfo: [{EAI_NAMES[ei.value.errno]}] " \
                  f"{ei.value.strerror}\n"


@pytest.mark.parametrize("addr,sa,flags,names", [
    ("127.0.0.1:80", ("127.0.0.1", 80), 0, None),
    ("[::1]:22", ("::1", 22), 0, None),
    ("127.0.0.1:80", ("127.0.0.1", 80),
     socket.NI_NUMERICHOST | socket.NI_NUMERICSERV,
     "numerichost,NI_NUMERICSERV"),
    ("127.0.0.1:53", ("127.0.0.1", 53), socket.NI_DGRAM, "dgram"),
])
def test_getnameinfo_same_as_python(sockd, addr, sa, flags, names):
    host, port = socket.getnameinfo(sa, flags)
    extra = ["--flags", names] if names else []
    assert ok_text(sockd, "getnameinfo", addr, *extra) == f"{host} {port}\n"
    obj = ok_json(sockd, "getnameinfo", addr, *extra)
    assert (obj["host"], str(obj["port"])) == (host, port)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_gethostbyaddr_same_as_python(sockd, host):
    try:
        name, aliases, addrs = socket.gethostbyaddr(host)
    except socket.herror as e:
        err = fails(sockd, FAILED, "gethostbyaddr", host)
        assert err == f"sockc: gethostbyaddr: [Errno {e.errno}] " \
                      f"{e.strerror}\n"
        return
    want = [f"hostname {name}"] + [f"alias {a}" for a in aliases] + \
        [f"address {a}" for a in addrs]
    assert ok_text(sockd, "gethostbyaddr", host).splitlines() == want
    obj = ok_json(sockd, "gethostbyaddr", host)
    assert obj["hostname"] == name
    assert obj.get("aliases", []) == aliases
    assert obj["addresses"] == addrs


# -- poll ---------------------------------------------------------------------------

def test_poll(sockd):
    quiet = handle(sockd, "inet", "dgram", "--name", "quiet")
    busy = handle(sockd, "inet", "dgram")
    for h in (quiet, busy):
        ok(sockd, "bind", h, "127.0.0.1:0")
    port = d_call(sockd, "GetSockName", {"handle": busy})["address"]["port"]

    # Nothing ready: the timeout expires, nothing printed, status 0.
    t0 = time.monotonic()
    assert ok(sockd, "poll", quiet, busy, "--timeout", "0.3") == b""
    assert 0.25 <= time.monotonic() - t0 < 8
    assert ok_json(sockd, "poll", busy, "--timeout", "0") == {"items": []}

    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    py.sendto(b"x", ("127.0.0.1", port))
    # Python's own poll on a socket in the same state, for comparison.
    twin = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    twin.bind(("127.0.0.1", 0))
    py.sendto(b"x", twin.getsockname())
    p = select.poll()
    p.register(twin, select.POLLIN)
    assert p.poll(5000) == [(twin.fileno(), select.POLLIN)]

    assert ok_text(sockd, "poll", "quiet:in", f"{busy}:in") == \
        f"{busy} in\n"
    assert ok_text(sockd, "poll", f"{busy}:out") == f"{busy} out\n"
    assert ok_text(sockd, "poll", f"{busy}:POLLIN,POLLOUT",
                   "--timeout", "5") == f"{busy} in,out\n"
    obj = ok_json(sockd, "poll", f"{busy}:in", "--timeout", "5")
    assert obj == {"items": [{"handle": busy, "events": ["POLLIN"]}]}
    # quiet is ready for writing, and only that was asked.
    assert ok_text(sockd, "poll", "quiet:out", "--timeout=5") == \
        f"{quiet} out\n"
    py.close()
    twin.close()


def test_poll_peer_closed(sockd):
    h, peer = sockc_connected(sockd)
    assert ok(sockd, "poll", f"{h}:in,rdhup", "--timeout", "0.1") == b""
    peer.close()
    out = ok_text(sockd, "poll", f"{h}:in,rdhup", "--timeout", "5")
    num, events = out.split()
    assert int(num) == h
    assert {"in", "rdhup"} <= set(events.split(","))


# -- list ---------------------------------------------------------------------------

def test_list_table_and_json(sockd):
    web = handle(sockd, "inet", "stream", "--name", "web")
    ok(sockd, "bind", web, "127.0.0.1:0")
    ok(sockd, "listen", web)
    conn, peer = sockc_connected(sockd)
    ok(sockd, "settimeout", conn, "2.5")
    udp = handle(sockd, "inet", "dgram")
    ok(sockd, "bind", udp, "127.0.0.1:0")
    fresh = handle(sockd, "inet6", "stream")
    wport = d_call(sockd, "GetSockName", {"handle": web})["address"]["port"]
    cl = socket.create_connection(("127.0.0.1", wport), timeout=10)

    head, rows = table(ok_text(sockd, "list"))
    assert head == ["HANDLE", "NAME", "FAMILY", "TYPE", "STATE", "LOCAL",
                    "PEER", "TIMEOUT", "OWNER"]
    assert all(len(r) == len(head) for r in rows), rows
    by = {int(r[0]): dict(zip(head, r)) for r in rows}
    assert set(by) == {web, conn, udp, fresh}
    assert by[web]["NAME"] == "web"
    assert by[web]["STATE"] == "listening"
    assert by[web]["LOCAL"] == py_text(cl.getpeername())
    assert by[web]["PEER"] == "-"
    assert by[conn]["NAME"] == "-"
    assert by[conn]["STATE"] == "connected"
    assert by[conn]["LOCAL"] == py_text(peer.getpeername())
    assert by[conn]["PEER"] == py_text(peer.getsockname())
    assert float(by[conn]["TIMEOUT"]) == 2.5
    assert by[udp]["STATE"] == "bound"
    assert (by[udp]["FAMILY"], by[udp]["TYPE"]) == (
        short_family(socket.AF_INET), short_type(socket.SOCK_DGRAM))
    assert by[fresh]["STATE"] == "unbound"
    assert by[fresh]["FAMILY"] == short_family(socket.AF_INET6)
    for r in by.values():
        assert r["OWNER"] == str(os.getuid())

    obj = ok_json(sockd, "list")
    assert set(obj) == {"sockets"}
    states = {e["handle"]: e["state"] for e in obj["sockets"]}
    assert states == {web: "listening", conn: "connected", udp: "bound",
                      fresh: "unbound"}
    with sockd.client() as c:
        raw = c.call("io.sockd.List")["sockets"]
    for e in obj["sockets"]:
        e.pop("state")
    assert obj["sockets"] == raw
    cl.close()
    peer.close()


def test_list_empty(sockd):
    head, rows = table(ok_text(sockd, "list"))
    assert head[0] == "HANDLE" and rows == []
    assert ok_json(sockd, "list") == {"sockets": []}


# -- call ---------------------------------------------------------------------------

def test_call_raw(sockd):
    h = handle(sockd, "inet", "stream", "--name", "raw")
    with sockd.client() as c:
        want = c.call("io.sockd.List")
    out = ok_text(sockd, "call", "List")         # no dot: io.sockd.List
    assert json.loads(out) == want
    assert json.loads(ok_text(sockd, "call", "io.sockd.List", "{}")) == want
    assert ok_json(sockd, "call", "List") == want
    obj = json.loads(ok_text(sockd, "call", "GetTimeout",
                             json.dumps({"handle": h})))
    assert obj == {"timeout": None}
    obj = json.loads(ok_text(sockd, "call", "SetTimeout", "-",
                             input=json.dumps({"handle": h,
                                               "timeout": 4.5}).encode()))
    assert obj == {}
    assert d_call(sockd, "GetTimeout", {"handle": h})["timeout"] == 4.5
    info = json.loads(ok_text(sockd, "call", "org.varlink.service.GetInfo"))
    assert "io.sockd" in info["interfaces"]


def test_call_errors(sockd):
    err = fails(sockd, FAILED, "call", "NoSuchMethod")
    prefix = "sockc: call: org.varlink.service.MethodNotFound "
    assert err.startswith(prefix), err
    assert json.loads(err[len(prefix):]) == \
        {"method": "io.sockd.NoSuchMethod"}
    err = fails(sockd, FAILED, "call", "Close", '{"handle": 424242}')
    prefix = "sockc: call: io.sockd.OSError "
    assert err.startswith(prefix), err
    params = json.loads(err[len(prefix):])
    assert params["errno"] == errno.EBADF
    assert params["name"] in errno_names(errno.EBADF)
    fails(sockd, USAGE, "call", "List", "{not json")
    fails(sockd, USAGE, "call", "List", "[1, 2]")


# -- help, version --------------------------------------------------------------------

COMMANDS = ["socket", "bind", "listen", "accept", "connect", "connect-ex",
            "send", "sendall", "sendto", "recv", "recvfrom", "settimeout",
            "gettimeout", "setblocking", "setsockopt", "getsockopt",
            "shutdown", "close", "getsockname", "getpeername", "getaddrinfo",
            "getnameinfo", "gethostbyaddr", "poll", "list", "call", "nc",
            "help"]


def test_help_and_version(tmpdir_short):
    nowhere = os.path.join(tmpdir_short, "none.sock")   # no daemon needed
    top = ok_text(nowhere, "--help")
    assert top.startswith("Usage: sockc ")
    listed = [ln.split()[0] for ln in top.splitlines()
              if ln.startswith("  ") and not ln.startswith("   ")
              and not ln.lstrip().startswith("-")]
    # Every command of the issue is listed, once, in this order (others,
    # such as exec, may be added).
    assert [c for c in listed if c in COMMANDS] == COMMANDS
    assert len(set(listed)) == len(listed)
    assert ok_text(nowhere, "-h") == top
    assert ok_text(nowhere, "help") == top
    for cmd in listed:
        text = ok_text(nowhere, "help", cmd)
        assert text.startswith(f"Usage: sockc {cmd}"), text
        assert ok_text(nowhere, cmd, "--help") == text
    assert "-q SECONDS" in ok_text(nowhere, "help", "nc")
    err = fails(nowhere, USAGE, "help", "nosuch")
    assert "nosuch" in err
    assert ok_text(nowhere, "--version") == f"sockc {ac_init_version()}\n"


# -- exit status 2 --------------------------------------------------------------------

USAGE_CASES = [
    ("unknown command", ["frobnicate"]),
    ("no command", []),
    ("unknown global option", ["--bogus", "list"]),
    ("--socket without a path", ["--socket"]),
    ("--socket with an empty path", ["--socket=", "list"]),
    ("unknown command option", ["list", "--bogus"]),
    ("too few", ["bind", "1"]),
    ("too many", ["getsockname", "1", "2"]),
    ("socket needs a type", ["socket", "inet"]),
    ("list takes nothing", ["list", "x"]),
    ("unknown family", ["socket", "inetz", "stream"]),
    ("unknown type", ["socket", "inet", "streamz"]),
    ("unknown proto", ["socket", "inet", "stream", "nosuchproto"]),
    ("empty name", ["socket", "inet", "stream", "--name", ""]),
    ("address without port", ["bind", "1", "127.0.0.1"]),
    ("v6 without brackets", ["connect", "1", "::1:80"]),
    ("bad port", ["connect", "1", "127.0.0.1:notaport"]),
    ("port out of range", ["connect", "1", "127.0.0.1:70000"]),
    ("bracket without port", ["connect", "1", "[::1]80"]),
    ("sendto bad address", ["sendto", "1", "nowhere", "x"]),
    ("getnameinfo bad address", ["getnameinfo", "localhost"]),
    ("bad backlog", ["listen", "1", "abc"]),
    ("negative bufsize", ["recv", "1", "-5"]),
    ("bufsize not a number", ["recv", "1", "ten"]),
    ("bad timeout", ["settimeout", "1", "abc"]),
    ("negative timeout", ["settimeout", "1", "-1"]),
    ("bad blocking", ["setblocking", "1", "2"]),
    ("bad shutdown", ["shutdown", "1", "sideways"]),
    ("unknown level", ["setsockopt", "1", "nolevel", "reuseaddr", "1"]),
    ("unknown option", ["getsockopt", "1", "socket", "nooption"]),
    ("bad buflen", ["getsockopt", "1", "tcp", "congestion", "0"]),
    ("bad hex", ["setsockopt", "1", "socket", "linger", "hex:0g"]),
    ("bad poll timeout", ["poll", "1", "--timeout", "soon"]),
    ("bad poll events", ["poll", "1:bogus"]),
    ("bad gai flags", ["getaddrinfo", "localhost", "--flags", "bogus"]),
    ("bad gai family", ["getaddrinfo", "localhost", "--family", "x"]),
    ("bad ni flags", ["getnameinfo", "127.0.0.1:80", "--flags", "bogus"]),
    ("bad handle number", ["close", "0"]),
    ("nc bad port", ["nc", "127.0.0.1", "notaport"]),
    ("nc bad -q", ["nc", "-q", "x", "127.0.0.1", "1"]),
    ("nc -l two args", ["nc", "-l", "127.0.0.1", "1"]),
    ("nc -l bad port", ["nc", "-l", "127.0.0.1:x"]),
]


def test_usage_errors_exit_2(sockd):
    h = handle(sockd, "inet", "stream")
    assert h == 1, "the cases use handle 1"
    before = d_entry(sockd, 1)
    problems = []
    for what, args in USAGE_CASES:
        rc, out, err = sockc(sockd, *args)
        if rc != USAGE or out != b"" or not err.startswith("sockc: "):
            problems.append(f"{what} {args}: rc {rc}, stdout {out!r}, "
                            f"stderr {err!r}")
    assert not problems, "\n".join(problems)
    # Nothing was done to the daemon's sockets.
    assert d_handles(sockd) == {1}
    assert d_entry(sockd, 1) == before


def test_usage_error_wording(sockd):
    err = fails(sockd, USAGE, "bind", "1")
    assert err.splitlines() == ["sockc: bind: too few arguments",
                                "usage: sockc bind H ADDR"]
    err = fails(sockd, USAGE, "frobnicate")
    assert err.startswith("sockc: unknown command 'frobnicate'\n")


# -- exit status 3 --------------------------------------------------------------------

def test_no_daemon_exit_3(tmpdir_short):
    path = os.path.join(tmpdir_short, "nobody.sock")
    err = fails(path, DAEMON, "list")
    assert err == f"sockc: cannot reach sockd at {path}: " \
                  f"{os.strerror(errno.ENOENT)}\n"
    # --socket wins over SOCKD_SOCKET.
    err = fails(None, DAEMON, "--socket", path, "socket", "inet", "stream")
    assert path in err
    # A path that is no socket at all.
    plain = os.path.join(tmpdir_short, "plain")
    open(plain, "w").close()
    with pytest.raises(OSError) as ei:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(plain)
    err = fails(plain, DAEMON, "list")
    assert err == f"sockc: cannot reach sockd at {plain}: " \
                  f"{os.strerror(ei.value.errno)}\n"


def test_default_socket_of_other_users(start_sockd, tmpdir_short):
    """Without SOCKD_SOCKET or --socket, a uid other than root finds sockd
    at $XDG_RUNTIME_DIR/sockd/sockd.sock."""
    rundir = os.path.join(tmpdir_short, "sockd")
    os.mkdir(rundir)
    os.chmod(rundir, 0o755)
    d = start_sockd(tmpdir=rundir)
    assert d.path == os.path.join(rundir, "sockd.sock")

    def as_nobody(*args):
        env = sockc_env(None, {"XDG_RUNTIME_DIR": tmpdir_short})
        p = subprocess.run([SETPRIV, f"--reuid={NOBODY}",
                            f"--regid={NOBODY}", "--clear-groups", SOCKC]
                           + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, env=env, timeout=20)
        err = p.stderr.decode()
        check_sanitizer(err)
        return p.returncode, p.stdout, err

    rc, out, err = as_nobody("call", "org.varlink.service.GetInfo")
    assert (rc, err) == (OK, "")
    assert "io.sockd" in json.loads(out)["interfaces"]
    # The default policy refuses other uids: proof it is this daemon.
    rc, out, err = as_nobody("list")
    assert (rc, out) == (FAILED, b"")
    assert_oserror(err, "list", errno.EACCES, context=True)
    # Elsewhere, nobody is there.
    env = {"XDG_RUNTIME_DIR": os.path.join(tmpdir_short, "none")}
    p = subprocess.run([SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}",
                        "--clear-groups", SOCKC, "list"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       env=sockc_env(None, env), timeout=20)
    assert p.returncode == DAEMON
    assert p.stderr.decode() == \
        f"sockc: cannot reach sockd at {env['XDG_RUNTIME_DIR']}" \
        f"/sockd/sockd.sock: {os.strerror(errno.ENOENT)}\n"


def test_socket_option_selects_daemon(sockd, tmpdir_short):
    nowhere = os.path.join(tmpdir_short, "nobody.sock")
    out = ok(nowhere, "--socket", sockd.path, "socket", "inet", "stream")
    assert int(out) in d_handles(sockd)
    out = ok(nowhere, f"--socket={sockd.path}", "list")
    assert out.startswith(b"HANDLE")
    fails(sockd, DAEMON, "--socket", nowhere, "list")


class FakeServer:
    """A Unix socket that answers every connection with reply, then
    closes."""

    def __init__(self, path, reply):
        self.path = path
        self.reply = reply
        self.lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lst.bind(path)
        self.lst.listen(8)
        self.lst.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.lst.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with c:
                c.settimeout(5)
                try:
                    buf = b""
                    while b"\0" not in buf:     # one whole call
                        b = c.recv(65536)
                        if not b:
                            break
                        buf += b
                    c.sendall(self.reply)
                    c.shutdown(socket.SHUT_WR)
                    c.recv(65536)
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.lst.close()


@pytest.mark.parametrize("reply", [
    b"this is not json\0",
    b"[1, 2, 3]\0",
    b'{"parameters": 5}\0',
    b'{"error": 7}\0',
    b'{"parameters": {}, "continues": "maybe"}\0',
    b"",
], ids=["garbage", "array", "params-not-object", "error-not-string",
        "bad-continues", "hangup"])
def test_garbage_daemon_exit_3(tmpdir_short, reply):
    path = os.path.join(tmpdir_short, "fake.sock")
    srv = FakeServer(path, reply)
    try:
        for args in (["list"], ["socket", "inet", "stream"],
                     ["call", "List"], ["getsockname", "name"],
                     ["gettimeout", "1"], ["close", "1", "2"]):
            rc, out, err = sockc(path, *args, timeout=10)
            assert rc == DAEMON, f"{args}: rc {rc}, stderr {err!r}"
            assert out == b""
            assert err.startswith("sockc: ") and err.endswith("\n"), err
    finally:
        srv.close()


def test_reply_missing_what_the_method_promises_exit_3(tmpdir_short):
    """A well-formed reply of the wrong shape: a command that needs a
    member exits 3; the raw call just prints it."""
    path = os.path.join(tmpdir_short, "fake.sock")
    srv = FakeServer(path, b'{"parameters": {"sockets": "nope", '
                           b'"handle": "x", "bogus": true}}\0')
    try:
        for args in (["list"], ["socket", "inet", "stream"],
                     ["getsockname", "name"], ["getsockname", "1"],
                     ["accept", "1"], ["send", "1", "x"],
                     ["recv", "1", "10"], ["poll", "1"],
                     ["getaddrinfo", "localhost"]):
            rc, out, err = sockc(path, *args, timeout=10)
            assert rc == DAEMON, f"{args}: rc {rc}, stderr {err!r}"
            assert out == b""
            assert "bad reply from sockd" in err, err
        out = ok(path, "call", "List")
        assert json.loads(out) == {"sockets": "nope", "handle": "x",
                                   "bogus": True}
    finally:
        srv.close()


# -- bash completion --------------------------------------------------------------------

def complete(words, env_socket=None):
    """COMPREPLY of _sockc for the words (the last one being completed)."""
    script = (f"source {COMPLETION}; COMP_WORDS=(\"$@\"); "
              f"COMP_CWORD=$(($# - 1)); _sockc; "
              f"printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    p = subprocess.run(["bash", "-c", script, "bash", SOCKC] + words,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=sockc_env(env_socket), timeout=20)
    assert p.returncode == 0, p.stderr
    assert p.stderr == b"", p.stderr
    return [w for w in p.stdout.decode().split("\n") if w]


def test_bash_completion(sockd):
    with open(COMPLETION) as f:
        assert "complete -F _sockc sockc" in f.read()
    assert "socket" in complete(["so"])
    assert set(complete(["s"])) >= {"socket", "send", "sendall", "sendto",
                                    "settimeout", "setblocking",
                                    "setsockopt", "shutdown"}
    assert all(w.startswith("s") for w in complete(["s"]))
    fams = complete(["socket", ""])
    assert {short_family(f) for f in (socket.AF_INET, socket.AF_INET6,
                                      socket.AF_UNIX)} <= set(fams)
    assert complete(["socket", "inet"]) and \
        set(complete(["socket", "inet"])) >= {"inet", "inet6"}
    types = complete(["socket", "inet", ""])
    assert {short_type(t) for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM)} \
        <= set(types)
    assert complete(["shutdown", "1", ""]) and \
        set(complete(["shutdown", "1", ""])) >= {"rd", "wr", "rdwr"}
    # Handles come from the daemon.
    h = handle(sockd, "inet", "stream", "--name", "compl")
    got = complete(["close", ""], env_socket=sockd.path)
    assert str(h) in got and "compl" in got


def test_connection_refused_by_the_daemon_exits_3(start_sockd):
    # Over the per-uid connection limit sockd answers ProtocolError and
    # closes: the daemon could not be used, exit 3.
    d = start_sockd("--max-connections-per-uid", "1")
    held = d.client()
    held.call("org.varlink.service.GetInfo")
    rc, out, err = sockc(d, "list")
    assert rc == 3, (rc, err)
    assert "too many connections" in err
