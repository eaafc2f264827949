"""Socket lifecycle: create, bind, listen, accept, connect, close; handles,
scope, names, addresses of every family sockd speaks on loopback."""
import errno
import os
import socket

import pytest

from helpers import (check_oserror, connect_refused, d_connected, d_listener,
                     expect_error, expect_oserror, free_port, inet_addr,
                     new_socket, peer_eof, py_errno, py_listener,
                     tcp_connect, unique)
from varlink import VarlinkError, wait_until


def call(c, method, **params):
    return c.call("io.sockd." + method, params)


# -- handles ------------------------------------------------------------------

def test_handles_are_positive_and_never_reused(sockd):
    a = sockd.client()
    b = sockd.client()
    seen = []
    for c in (a, b, a, b):
        seen.append(new_socket(c))
    call(a, "Close", handle=seen[0])
    call(b, "Close", handle=seen[1])
    seen.append(new_socket(a))
    seen.append(new_socket(b, "AF_INET6", "SOCK_DGRAM"))
    assert len(set(seen)) == len(seen)
    assert seen[-2] not in seen[:-2] and seen[-1] not in seen[:-2]


def test_close_twice_is_ebadf(sockd):
    c = sockd.client()
    h = new_socket(c)
    assert call(c, "Close", handle=h) == {}
    expect_oserror(errno.EBADF, call, c, "Close", handle=h)
    expect_oserror(errno.EBADF, call, c, "GetSockName", handle=h)


@pytest.mark.parametrize("method,extra", [
    ("Close", {}),
    ("Bind", {"address": {"host": "127.0.0.1", "port": 0}}),
    ("Listen", {}),
    ("Accept", {}),
    ("Connect", {"address": {"host": "127.0.0.1", "port": 1}}),
    ("Recv", {"bufsize": 10}),
    ("Send", {"data": "aGk="}),
    ("GetSockName", {}),
    ("GetPeerName", {}),
    ("Shutdown", {"how": "SHUT_RDWR"}),
    ("SetTimeout", {"timeout": 1.0}),
    ("GetTimeout", {}),
    ("GetSockOpt", {"level": "SOL_SOCKET", "option": "SO_TYPE"}),
    ("FileNo", {}),
])
@pytest.mark.parametrize("handle", [0, -1, 77777, 2 ** 40])
def test_unknown_handle_is_ebadf(sockd, method, extra, handle):
    c = sockd.client()
    mine = new_socket(c)
    params = dict(extra, handle=handle)
    expect_oserror(errno.EBADF, c.call, "io.sockd." + method, params)
    # Nothing happened to the real socket.
    assert call(c, "GetSockName", handle=mine)["address"]["port"] == 0


# -- TCP over 127.0.0.1 -----------------------------------------------------

def test_tcp_listen_accept_python_client(sockd):
    c = sockd.client()
    h, addr = d_listener(c)
    assert addr["family"] == "AF_INET"
    assert addr["host"] == "127.0.0.1"
    assert isinstance(addr["port"], int) and 0 < addr["port"] < 65536
    peer = tcp_connect(addr["port"])
    acc = call(c, "Accept", handle=h)
    ah = acc["handle"]
    assert ah > h
    want = peer.getsockname()
    assert acc["address"]["family"] == "AF_INET"
    assert (acc["address"]["host"], acc["address"]["port"]) == want
    pn = call(c, "GetPeerName", handle=ah)["address"]
    assert (pn["family"], pn["host"], pn["port"]) == ("AF_INET",) + want
    sn = call(c, "GetSockName", handle=ah)["address"]
    assert (sn["host"], sn["port"]) == peer.getpeername()
    call(c, "Close", handle=ah)
    assert peer_eof(peer)
    peer.close()


def test_tcp_connect_to_python_listener(sockd):
    c = sockd.client()
    lst = py_listener()
    h = new_socket(c)
    assert call(c, "Connect", handle=h,
                address=inet_addr(*lst.getsockname())) == {}
    conn, raddr = lst.accept()
    sn = call(c, "GetSockName", handle=h)["address"]
    assert (sn["family"], sn["host"], sn["port"]) == ("AF_INET",) + raddr
    pn = call(c, "GetPeerName", handle=h)["address"]
    assert (pn["host"], pn["port"]) == lst.getsockname()
    conn.close()
    lst.close()


def test_connect_by_name_localhost(sockd):
    c = sockd.client()
    lst = py_listener()
    want = socket.getaddrinfo("localhost", None, socket.AF_INET)[0][4][0]
    h = new_socket(c)
    call(c, "Connect", handle=h,
         address={"host": "localhost", "port": lst.getsockname()[1]})
    conn, raddr = lst.accept()
    assert raddr[0] == want
    pn = call(c, "GetPeerName", handle=h)["address"]
    assert (pn["host"], pn["port"]) == lst.getsockname()
    conn.close()
    lst.close()


def test_bind_by_name_localhost(sockd):
    c = sockd.client()
    h = new_socket(c)
    call(c, "Bind", handle=h, address={"host": "localhost", "port": 0})
    want = socket.getaddrinfo("localhost", None, socket.AF_INET)[0][4][0]
    assert call(c, "GetSockName", handle=h)["address"]["host"] == want


def test_connect_to_unresolvable_name(sockd):
    c = sockd.client()
    h = new_socket(c)
    e = expect_error("io.sockd.GAIError", call, c, "Connect", handle=h,
                     address={"host": "no-such-host.invalid", "port": 80})
    try:
        socket.getaddrinfo("no-such-host.invalid", 80, socket.AF_INET,
                           socket.SOCK_STREAM)
    except socket.gaierror as ge:
        assert e.params["code"] == ge.errno
    else:
        raise AssertionError("Python resolved a name under .invalid")


def test_connect_refused(sockd):
    c = sockd.client()
    hold = free_port()
    h = new_socket(c)
    e = expect_oserror(errno.ECONNREFUSED, call, c, "Connect", handle=h,
                       address=inet_addr(*hold.getsockname()))
    assert e.params["name"] == "ECONNREFUSED"
    hold.close()


def test_connect_ex(sockd):
    c = sockd.client()
    hold = free_port()
    h = new_socket(c)
    r = call(c, "ConnectEx", handle=h, address=inet_addr(*hold.getsockname()))
    assert r == {"errno": errno.ECONNREFUSED, "name": "ECONNREFUSED"}
    lst = py_listener()
    h2 = new_socket(c)
    r = call(c, "ConnectEx", handle=h2, address=inet_addr(*lst.getsockname()))
    assert r == {"errno": 0, "name": ""}
    conn, raddr = lst.accept()
    sn = call(c, "GetSockName", handle=h2)["address"]
    assert (sn["host"], sn["port"]) == raddr
    # ConnectEx on an already connected socket reports EISCONN the same way.
    r = call(c, "ConnectEx", handle=h2, address=inet_addr(*lst.getsockname()))
    assert r == {"errno": errno.EISCONN, "name": "EISCONN"}
    conn.close()
    lst.close()
    hold.close()


def test_connect_twice_is_eisconn(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    lst = py_listener()
    py = socket.create_connection(lst.getsockname())
    want = py_errno(py.connect, lst.getsockname())
    expect_oserror(want, call, c, "Connect", handle=h,
                   address=inet_addr(*lst.getsockname()))
    py.close()
    lst.close()
    peer.close()


def test_bind_in_use(sockd):
    c = sockd.client()
    lst = py_listener()
    h = new_socket(c)
    expect_oserror(errno.EADDRINUSE, call, c, "Bind", handle=h,
                   address=inet_addr(*lst.getsockname()))
    lst.close()


def test_bind_twice_is_einval(sockd):
    c = sockd.client()
    h = new_socket(c)
    call(c, "Bind", handle=h, address=inet_addr("127.0.0.1", 0))
    py = socket.socket()
    py.bind(("127.0.0.1", 0))
    want = py_errno(py.bind, ("127.0.0.1", 0))
    py.close()
    expect_oserror(want, call, c, "Bind", handle=h,
                   address=inet_addr("127.0.0.1", 0))


def test_not_connected(sockd):
    c = sockd.client()
    for method, params, py_op in [
            ("GetPeerName", {}, lambda s: s.getpeername()),
            ("Shutdown", {"how": "SHUT_RDWR"},
             lambda s: s.shutdown(socket.SHUT_RDWR)),
            ("Recv", {"bufsize": 10}, lambda s: s.recv(10)),
            ("Send", {"data": "aGk="}, lambda s: s.send(b"hi"))]:
        py = socket.socket()
        want = py_errno(py_op, py)
        py.close()
        h = new_socket(c)
        expect_oserror(want, c.call, "io.sockd." + method,
                       dict(params, handle=h))
    assert errno.ENOTCONN == py_errno(socket.socket().getpeername)


def test_accept_without_listen(sockd):
    c = sockd.client()
    h = new_socket(c)
    call(c, "Bind", handle=h, address=inet_addr("127.0.0.1", 0))
    py = socket.socket()
    py.bind(("127.0.0.1", 0))
    want = py_errno(py.accept)
    py.close()
    expect_oserror(want, call, c, "Accept", handle=h)


def test_listen_on_udp(sockd):
    c = sockd.client()
    h = new_socket(c, "AF_INET", "SOCK_DGRAM")
    py = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    want = py_errno(py.listen)
    py.close()
    expect_oserror(want, call, c, "Listen", handle=h)


def test_listen_backlog(sockd):
    c = sockd.client()
    h = new_socket(c)
    call(c, "Bind", handle=h, address=inet_addr("127.0.0.1", 0))
    assert call(c, "Listen", handle=h, backlog=3) == {}
    port = call(c, "GetSockName", handle=h)["address"]["port"]
    peer = tcp_connect(port)
    assert call(c, "Accept", handle=h)["address"]["port"] == \
        peer.getsockname()[1]
    peer.close()


def test_shutdown_wr_gives_peer_eof(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    assert call(c, "Shutdown", handle=h, how="SHUT_WR") == {}
    assert peer.recv(10) == b""
    # The other direction still works.
    peer.sendall(b"still open")
    from varlink import unb64
    assert unb64(call(c, "Recv", handle=h, bufsize=100)["data"]) == \
        b"still open"
    peer.close()


def test_close_gives_peer_eof(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    call(c, "Close", handle=h)
    assert peer_eof(peer)
    peer.close()


def test_close_listener_refuses_connections(sockd):
    c = sockd.client()
    h, addr = d_listener(c)
    assert not connect_refused(addr["port"])
    call(c, "Close", handle=h)
    assert connect_refused(addr["port"])


# -- IPv6 ------------------------------------------------------------------

def test_tcp_ipv6(sockd):
    c = sockd.client()
    h, addr = d_listener(c, "AF_INET6", "::1")
    assert addr["family"] == "AF_INET6"
    assert addr["host"] == "::1"
    assert addr["port"] > 0
    assert addr.get("flowinfo", 0) == 0 and addr.get("scope_id", 0) == 0
    peer = tcp_connect(addr["port"], socket.AF_INET6, "::1")
    acc = call(c, "Accept", handle=h)
    assert acc["address"]["family"] == "AF_INET6"
    assert (acc["address"]["host"], acc["address"]["port"]) == \
        peer.getsockname()[:2]
    peer.close()

    lst = py_listener(socket.AF_INET6, "::1")
    h2 = new_socket(c, "AF_INET6")
    call(c, "Connect", handle=h2, address=inet_addr("::1",
                                                    lst.getsockname()[1]))
    conn, raddr = lst.accept()
    sn = call(c, "GetSockName", handle=h2)["address"]
    assert (sn["family"], sn["host"], sn["port"]) == ("AF_INET6",) + \
        raddr[:2]
    conn.close()
    lst.close()


def test_ipv6_refused(sockd):
    c = sockd.client()
    hold = free_port(socket.AF_INET6, "::1")
    h = new_socket(c, "AF_INET6")
    expect_oserror(errno.ECONNREFUSED, call, c, "Connect", handle=h,
                   address=inet_addr("::1", hold.getsockname()[1]))
    hold.close()


# -- Unix -------------------------------------------------------------------

def test_unix_path_listener(sockd):
    c = sockd.client()
    path = os.path.join(sockd.tmpdir, "u.sock")
    h = new_socket(c, "AF_UNIX", "SOCK_STREAM")
    call(c, "Bind", handle=h, address={"path": path})
    assert os.path.exists(path)
    call(c, "Listen", handle=h)
    assert call(c, "GetSockName", handle=h)["address"] == \
        {"family": "AF_UNIX", "path": path}
    py = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    py.settimeout(10)
    py.connect(path)
    acc = call(c, "Accept", handle=h)
    # The Python client is unnamed.
    assert acc["address"]["family"] == "AF_UNIX"
    assert acc["address"].get("path", "") == py.getsockname() == ""
    pn = call(c, "GetPeerName", handle=acc["handle"])["address"]
    assert pn["family"] == "AF_UNIX" and pn.get("path", "") == ""
    py.close()


def test_unix_connect_to_python(sockd):
    c = sockd.client()
    path = os.path.join(sockd.tmpdir, "py.sock")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    lst.listen()
    lst.settimeout(10)
    h = new_socket(c, "AF_UNIX", "SOCK_STREAM")
    call(c, "Connect", handle=h, address={"family": "AF_UNIX", "path": path})
    conn, _ = lst.accept()
    assert call(c, "GetPeerName", handle=h)["address"] == \
        {"family": "AF_UNIX", "path": path}
    conn.close()
    lst.close()


def test_unix_abstract(sockd):
    c = sockd.client()
    name = unique("sockd-test")
    h = new_socket(c, "AF_UNIX", "SOCK_STREAM")
    call(c, "Bind", handle=h, address={"path": "@" + name})
    call(c, "Listen", handle=h)
    assert call(c, "GetSockName", handle=h)["address"] == \
        {"family": "AF_UNIX", "path": "@" + name}
    py = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    py.settimeout(10)
    py.connect("\0" + name)
    assert call(c, "Accept", handle=h)["handle"] > h
    py.close()

    other = unique("sockd-py")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind("\0" + other)
    lst.listen()
    lst.settimeout(10)
    h2 = new_socket(c, "AF_UNIX", "SOCK_STREAM")
    call(c, "Connect", handle=h2, address={"path": "@" + other})
    conn, _ = lst.accept()
    assert conn.getpeername() == ""
    assert call(c, "GetPeerName", handle=h2)["address"]["path"] == \
        "@" + other
    conn.close()
    lst.close()


def test_unix_errors(sockd):
    c = sockd.client()
    missing = os.path.join(sockd.tmpdir, "missing.sock")
    h = new_socket(c, "AF_UNIX", "SOCK_STREAM")
    expect_oserror(errno.ENOENT, call, c, "Connect", handle=h,
                   address={"path": missing})
    # A socket file nobody listens on.
    dead = os.path.join(sockd.tmpdir, "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(dead)
    h2 = new_socket(c, "AF_UNIX", "SOCK_STREAM")
    expect_oserror(errno.ECONNREFUSED, call, c, "Connect", handle=h2,
                   address={"path": dead})
    # Binding over an existing file.
    h3 = new_socket(c, "AF_UNIX", "SOCK_STREAM")
    expect_oserror(errno.EADDRINUSE, call, c, "Bind", handle=h3,
                   address={"path": dead})
    s.close()


def test_unix_seqpacket_and_dgram_types(sockd):
    c = sockd.client()
    for t in ("SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET"):
        h = new_socket(c, "AF_UNIX", t)
        v = call(c, "GetSockOpt", handle=h, level="SOL_SOCKET",
                 option="SO_TYPE")["value"]
        assert v == getattr(socket, t)


# -- families ----------------------------------------------------------------

def test_bluetooth(sockd):
    c = sockd.client()
    af = getattr(socket, "AF_BLUETOOTH", 31)
    rfcomm = getattr(socket, "BTPROTO_RFCOMM", 3)
    try:
        s = socket.socket(af, socket.SOCK_STREAM, rfcomm)
    except OSError as e:
        expect_oserror(e.errno, new_socket, c, "AF_BLUETOOTH",
                       "SOCK_STREAM", proto=rfcomm)
    else:
        s.close()
        h = new_socket(c, "AF_BLUETOOTH", "SOCK_STREAM", proto=rfcomm)
        assert call(c, "List")["sockets"][0]["family"] == "AF_BLUETOOTH"
        call(c, "Close", handle=h)


def test_bluetooth_expected_errno():
    # What the test above expects on this kernel, from Python directly.
    af = getattr(socket, "AF_BLUETOOTH", 31)
    try:
        socket.socket(af, socket.SOCK_STREAM, 3).close()
    except OSError as e:
        assert e.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT,
                           errno.EPERM, errno.EACCES)


def test_explicit_proto(sockd):
    c = sockd.client()
    h = new_socket(c, "AF_INET", "SOCK_STREAM", proto=socket.IPPROTO_TCP)
    u = new_socket(c, "AF_INET", "SOCK_DGRAM", proto=socket.IPPROTO_UDP)
    protos = {s["handle"]: s["proto"] for s in call(c, "List")["sockets"]}
    assert protos == {h: socket.IPPROTO_TCP, u: socket.IPPROTO_UDP}
    py = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    want = py_errno(socket.socket, socket.AF_INET, socket.SOCK_STREAM,
                    socket.IPPROTO_UDP)
    py.close()
    expect_oserror(want, new_socket, c, "AF_INET", "SOCK_STREAM",
                   proto=socket.IPPROTO_UDP)


# -- scope, persistence, names ------------------------------------------------

def test_scoped_handles_close_with_their_connection(sockd):
    a = sockd.client()
    b = sockd.client()
    h, addr = d_listener(a)
    # Same uid: the other connection may use it while it lives.
    assert call(b, "GetSockName", handle=h)["address"]["port"] == \
        addr["port"]
    a.close()
    wait_until(lambda: connect_refused(addr["port"]),
               what="the scoped listener to close")

    def gone():
        try:
            call(b, "GetSockName", handle=h)
        except VarlinkError as e:
            check_oserror(e, errno.EBADF)
            return True
        return False
    wait_until(gone, what="the scoped handle to disappear")
    assert call(b, "List")["sockets"] == []


def test_persistent_handles_survive_their_connection(sockd):
    a = sockd.client()
    h, addr = d_listener(a, persistent=True, name="web")
    a.close()
    b = sockd.client()
    peer = tcp_connect(addr["port"])
    acc = call(b, "Accept", handle=h)
    assert acc["address"]["port"] == peer.getsockname()[1]
    listing = {s["handle"]: s for s in call(b, "List")["sockets"]}
    assert listing[h]["persistent"] is True
    assert listing[h]["name"] == "web"
    # An accepted handle has its listener's scope.
    assert listing[acc["handle"]]["persistent"] is True
    b.close()
    c = sockd.client()
    listing = {s["handle"]: s for s in call(c, "List")["sockets"]}
    assert set(listing) == {h, acc["handle"]}
    call(c, "Close", handle=h)
    call(c, "Close", handle=acc["handle"])
    assert peer_eof(peer)
    assert connect_refused(addr["port"])
    peer.close()


def test_accepted_from_scoped_listener_is_scoped(sockd):
    a = sockd.client()
    h, addr = d_listener(a)
    peer = tcp_connect(addr["port"])
    acc = call(a, "Accept", handle=h)["handle"]
    listing = {s["handle"]: s for s in call(a, "List")["sockets"]}
    assert listing[acc]["persistent"] is False
    a.close()
    assert peer_eof(peer)
    peer.close()


def test_names_unique_per_owner(sockd):
    a = sockd.client()
    b = sockd.client()
    h = new_socket(a, name="dup", persistent=True)
    expect_oserror(errno.EEXIST, new_socket, a, name="dup")
    expect_oserror(errno.EEXIST, new_socket, b, name="dup")
    other = new_socket(b, name="other")
    assert other != h
    call(a, "Close", handle=h)
    h2 = new_socket(b, name="dup")
    assert h2 not in (h, other)
    names = {s["name"]: s["handle"] for s in call(b, "List")["sockets"]}
    assert names == {"dup": h2, "other": other}


def test_name_freed_when_scoped_handle_closes(sockd):
    a = sockd.client()
    new_socket(a, name="scoped")
    a.close()
    b = sockd.client()

    def free():
        try:
            return new_socket(b, name="scoped")
        except VarlinkError as e:
            check_oserror(e, errno.EEXIST)
            return None
    assert wait_until(free, what="the name to be freed") > 0


def test_list(sockd):
    c = sockd.client()
    assert call(c, "List") == {"sockets": []}
    lst, laddr = d_listener(c, name="lst")
    u = new_socket(c, "AF_INET6", "SOCK_DGRAM", persistent=True)
    call(c, "SetTimeout", handle=u, timeout=2.5)
    conn, peer = d_connected(c)
    listing = {s["handle"]: s for s in call(c, "List")["sockets"]}
    assert set(listing) == {lst, u, conn}
    for s in listing.values():
        assert s["owner"] == os.getuid()
        assert isinstance(s["proto"], int)
    ls = listing[lst]
    assert ls["name"] == "lst"
    assert (ls["family"], ls["type"], ls["persistent"]) == \
        ("AF_INET", "SOCK_STREAM", False)
    assert ls["local"] == laddr
    assert ls.get("peer") is None
    assert ls["timeout"] is None
    us = listing[u]
    assert (us["family"], us["type"], us["persistent"]) == \
        ("AF_INET6", "SOCK_DGRAM", True)
    assert us.get("name") is None
    assert us["timeout"] == 2.5
    cs = listing[conn]
    assert cs["peer"]["family"] == "AF_INET"
    assert (cs["peer"]["host"], cs["peer"]["port"]) == peer.getsockname()
    assert (cs["local"]["host"], cs["local"]["port"]) == peer.getpeername()
    peer.close()


def test_list_shows_only_live_sockets(sockd):
    c = sockd.client()
    hs = [new_socket(c) for _ in range(5)]
    call(c, "Close", handle=hs[1])
    call(c, "Close", handle=hs[3])
    got = sorted(s["handle"] for s in call(c, "List")["sockets"])
    assert got == [hs[0], hs[2], hs[4]]


def test_wrong_state_errnos_like_python(sockd):
    c = sockd.client()
    # Recv on a listener.
    lh, _ = d_listener(c)
    py = socket.socket()
    py.bind(("127.0.0.1", 0))
    py.listen()
    expect_oserror(py_errno(py.recv, 10), call, c, "Recv", handle=lh,
                   bufsize=10)
    py.close()
    # Accept on UDP.
    u = new_socket(c, "AF_INET", "SOCK_DGRAM")
    pu = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    expect_oserror(py_errno(pu.accept), call, c, "Accept", handle=u)
    pu.close()


def test_connect_ex_nonblocking(sockd):
    c = sockd.client()
    lst = py_listener()
    py = socket.socket()
    py.setblocking(False)
    want = py.connect_ex(lst.getsockname())
    py.close()
    h = new_socket(c)
    call(c, "SetBlocking", handle=h, blocking=False)
    r = call(c, "ConnectEx", handle=h, address=inet_addr(*lst.getsockname()))
    assert r["errno"] == want
    assert r["name"] in {n for n in dir(errno)
                         if getattr(errno, n) == want and n[0] == "E"}
    lst.close()


def test_shutdown_rd_then_recv_is_eof(sockd):
    c = sockd.client()
    h, peer = d_connected(c)
    call(c, "Shutdown", handle=h, how="SHUT_RD")
    from varlink import unb64
    assert unb64(call(c, "Recv", handle=h, bufsize=10)["data"]) == b""
    peer.close()


def test_unbound_names_like_python(sockd):
    c = sockd.client()
    for fam, typ in (("AF_INET", "SOCK_STREAM"), ("AF_INET6", "SOCK_DGRAM"),
                     ("AF_UNIX", "SOCK_STREAM")):
        py = socket.socket(getattr(socket, fam), getattr(socket, typ))
        want = py.getsockname()
        py.close()
        h = new_socket(c, fam, typ)
        got = call(c, "GetSockName", handle=h)["address"]
        assert got["family"] == fam
        if fam == "AF_UNIX":
            assert got.get("path", "") == want
        else:
            assert (got["host"], got["port"]) == want[:2]


def test_bind_with_another_family(sockd):
    c = sockd.client()
    h = new_socket(c)
    with pytest.raises(VarlinkError) as ei:
        call(c, "Bind", handle=h,
             address={"family": "AF_INET6", "host": "::1", "port": 0})
    e = ei.value
    assert (e.error == "io.sockd.OSError"
            and e.params["errno"] == errno.EAFNOSUPPORT) or \
        (e.error == "org.varlink.service.InvalidParameter"
         and e.params["parameter"] in ("family", "address", "host")), e
    assert call(c, "GetSockName", handle=h)["address"]["port"] == 0


@pytest.mark.parametrize("port", [-1, 65536, 2 ** 40])
def test_bad_port(sockd, port):
    c = sockd.client()
    h = new_socket(c)
    with pytest.raises(OverflowError):
        socket.socket().bind(("127.0.0.1", port))
    with pytest.raises(VarlinkError) as ei:
        call(c, "Bind", handle=h, address={"host": "127.0.0.1",
                                           "port": port})
    e = ei.value
    assert (e.error == "org.varlink.service.InvalidParameter"
            and e.params["parameter"] in ("port", "address")) or \
        (e.error == "io.sockd.OSError"
         and e.params["errno"] == errno.EINVAL), e
    assert call(c, "GetSockName", handle=h)["address"]["port"] == 0


def test_detach_frees_the_name(sockd):
    c = sockd.client()
    h = new_socket(c, name="taken", persistent=True)
    _, fds = c.call_fds("io.sockd.FileNo", {"handle": h, "detach": True})
    for fd in fds:
        os.close(fd)
    assert len(fds) == 1
    assert new_socket(c, name="taken") not in (h,)
