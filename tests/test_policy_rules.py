"""Policy files (sockd.policy(5)): what each rule grants and refuses.

Clients run as other uids: /usr/bin/python3 under `setpriv --reuid=UID
--regid=GID --clear-groups` (or `--groups=` for supplementary groups),
driven from here line by line over a pipe (see AGENT). The daemon runs as
root, so only the policy stands between those uids and the kernel.
Every refusal must be OSError EACCES whose message names the rule that
did not grant it (or the default policy), logged on the daemon's stderr
with the uid and the operation; at -v grants are logged with their rule.
"""
import base64
import errno
import json
import os
import re
import signal
import socket
import struct
import subprocess
import time

import pytest

from agent import log_lines, write_policy
from conftest import REPO, SANITIZER_MARKS, SOCKD
from varlink import wait_until

PYTHON = "/usr/bin/python3"
SETPRIV = "/usr/bin/setpriv"
UNSHARE = "/usr/bin/unshare"
MAN_PAGE = os.path.join(REPO, "man", "sockd.policy.5")

NOBODY = 65534          # "nobody" in /etc/passwd: rules name it by name
OTHER = 65533           # no passwd entry: rules give the number
GROUPIE = 65532         # matched through a supplementary group only
QUOTA = 65531
NOFD = 65529
STRANGER = 65530        # no rule matches: the default policy
GID_EXTRA = 4242        # a made-up group, given by number
GID_NAMED = 34          # "backup", given by name


def policy_daemon(start_sockd, tmpdir, rules, *args):
    """A sockd -v under a policy of rules (a list of dicts)."""
    path = os.path.join(tmpdir, "policy.json")
    write_policy(path, rules)
    return start_sockd("-v", "--policy", path, *args, tmpdir=tmpdir)


def assert_refusal_logged(d, uid, text):
    lines = log_lines(d, f"uid {uid} ", text, "refused")
    assert lines, (f"no refusal logged with uid {uid} and {text!r}:\n"
                   f"{d.stderr()}")
    return lines


def assert_grant_logged(d, uid, text, rule):
    lines = log_lines(d, "granted", text, f"uid {uid} ", f'rule "{rule}"')
    assert lines, (f"no log line granting {text!r} to uid {uid} by "
                   f"{rule}:\n{d.stderr()}")


def listener(host, family=socket.AF_INET, port=0):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)
    s.settimeout(10)
    return s


def free_port_pair(width):
    """A port lo such that lo and lo + width are free on 127.0.0.1 and
    ::1 (below the ephemeral range)."""
    for _ in range(200):
        lo = int.from_bytes(os.urandom(2), "big") % 10000 + 20000
        socks = []
        try:
            for port in (lo, lo + width):
                for fam, host in ((socket.AF_INET, "127.0.0.1"),
                                  (socket.AF_INET6, "::1")):
                    s = socket.socket(fam, socket.SOCK_STREAM)
                    socks.append(s)
                    s.bind((host, port))
            return lo
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port pair found")


def inet(host, port):
    return {"host": host, "port": port}


# -- Socket: families and types ---------------------------------------------

def test_socket_family_and_type(start_sockd, tmpdir_short, agents):
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "inet-any-type", "users": ["nobody"],
         "families": ["AF_INET", "AF_INET6", "AF_UNIX"], "types": ["*"]},
        {"name": "all-families-dgram", "users": [OTHER],
         "families": ["*"], "types": ["SOCK_DGRAM"]},
        {"name": "raw-named", "groups": [GID_EXTRA],
         "families": ["AF_INET", "AF_PACKET"], "types": ["SOCK_RAW"]},
    ])
    nobody = agents(d, NOBODY)
    nobody.socket("AF_INET", "SOCK_STREAM")
    nobody.socket("AF_INET6", "SOCK_DGRAM")
    nobody.socket("AF_UNIX", "SOCK_SEQPACKET")
    # "*" types: every type but SOCK_RAW.
    nobody.refused("Socket", {"family": "AF_INET", "type": "SOCK_RAW",
                              "proto": 1}, "inet-any-type")
    nobody.refused("Socket", {"family": "AF_PACKET", "type": "SOCK_DGRAM"},
                   "inet-any-type")
    nobody.refused("Socket", {"family": "AF_NETLINK", "type": "SOCK_DGRAM"},
                   "inet-any-type")
    assert_refusal_logged(d, NOBODY, "socket AF_INET SOCK_RAW proto 1")
    assert_refusal_logged(d, NOBODY, "socket AF_PACKET SOCK_DGRAM")
    assert_grant_logged(d, NOBODY, "socket AF_INET6 SOCK_DGRAM",
                        "inet-any-type")

    other = agents(d, OTHER)
    other.socket("AF_INET", "SOCK_DGRAM")
    other.socket("AF_UNIX", "SOCK_DGRAM")
    other.socket("AF_INET6", "SOCK_DGRAM")
    # "*" families: every family but AF_PACKET.
    other.refused("Socket", {"family": "AF_PACKET", "type": "SOCK_DGRAM"},
                  "all-families-dgram")
    other.refused("Socket", {"family": "AF_INET", "type": "SOCK_STREAM"},
                  "all-families-dgram")
    assert_refusal_logged(d, OTHER, "socket AF_INET SOCK_STREAM")

    # A rule that names SOCK_RAW and AF_PACKET grants them (to a uid in
    # the rule's group only as a supplementary group).
    raw = agents(d, GROUPIE, groups=[GID_EXTRA])
    h = raw.socket("AF_INET", "SOCK_RAW", proto=1)
    info = raw.ok("List")["sockets"]
    assert [(s["handle"], s["type"], s["proto"]) for s in info] == \
        [(h, "SOCK_RAW", 1)]
    raw.socket("AF_PACKET", "SOCK_RAW")
    raw.refused("Socket", {"family": "AF_INET6", "type": "SOCK_RAW",
                           "proto": 58}, "raw-named")
    raw.refused("Socket", {"family": "AF_INET", "type": "SOCK_STREAM"},
                "raw-named")
    assert_grant_logged(d, GROUPIE, "socket AF_INET SOCK_RAW proto 1",
                        "raw-named")
    # Without the group, the same uid matches no rule.
    plain = agents(d, GROUPIE)
    plain.refused("Socket", {"family": "AF_INET", "type": "SOCK_RAW",
                             "proto": 1})
    assert_refusal_logged(d, GROUPIE, "io.sockd.Socket")


def test_users_and_groups_by_name_and_number(start_sockd, tmpdir_short,
                                             agents):
    unix = {"families": ["AF_UNIX"], "types": ["SOCK_STREAM"]}
    d = policy_daemon(start_sockd, tmpdir_short, [
        dict(name="user-by-name", users=["nobody"], **unix),
        dict(name="user-by-number", users=[OTHER], **unix),
        dict(name="group-by-number", groups=[GID_EXTRA], **unix),
        dict(name="group-by-name", groups=["backup"], **unix),
        dict(name="everyone-dgram", users=["*"], families=["AF_UNIX"],
             types=["SOCK_DGRAM"]),
    ])
    cases = [
        (dict(uid=NOBODY), "user-by-name"),
        (dict(uid=OTHER), "user-by-number"),
        (dict(uid=GROUPIE, groups=[1, GID_EXTRA]), "group-by-number"),
        (dict(uid=GROUPIE, groups=[GID_NAMED]), "group-by-name"),
        # The primary group counts as well as supplementary ones.
        (dict(uid=QUOTA, gid=GID_EXTRA), "group-by-number"),
    ]
    for kw, rule in cases:
        a = agents(d, **kw)
        a.socket("AF_UNIX", "SOCK_STREAM")
        assert_grant_logged(d, kw["uid"], "socket AF_UNIX SOCK_STREAM", rule)
        # Refusals name every rule that applies to the caller.
        msg = a.refused("Socket", {"family": "AF_INET",
                                   "type": "SOCK_STREAM"}, rule)
        assert '"everyone-dgram"' in msg, msg
        a.close()
    # "*" matches any uid, even one in no other rule.
    stranger = agents(d, STRANGER, groups=[4243])
    stranger.socket("AF_UNIX", "SOCK_DGRAM")
    stranger.refused("Socket", {"family": "AF_UNIX", "type": "SOCK_STREAM"},
                     "everyone-dgram")


def test_no_rule_is_the_default_policy(start_sockd, tmpdir_short, agents):
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "only-nobody", "users": ["nobody"], "families": ["*"],
         "types": ["*"]}])
    a = agents(d, STRANGER, groups=[GID_EXTRA])
    for method, params in [
            ("Socket", {"family": "AF_INET", "type": "SOCK_STREAM"}),
            ("List", None),
            ("GetAddrInfo", {"host": "127.0.0.1", "port": 1})]:
        msg = a.refused(method, params, None)
        assert f"uid {STRANGER}" in msg, msg
        assert_refusal_logged(d, STRANGER, f"io.sockd.{method}")
    assert "org.varlink.service.GetInfo" not in d.stderr()
    assert "io.sockd" in a.ok("org.varlink.service.GetInfo")["interfaces"]


# -- Bind ---------------------------------------------------------------------

def test_bind_port_range_edges_and_privileged_port(start_sockd, tmpdir_short,
                                                   agents):
    lo = free_port_pair(9)
    hi = lo + 9
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "web", "users": ["nobody"],
         "families": ["AF_INET", "AF_INET6"], "types": ["SOCK_STREAM"],
         "bind": [f"127.0.0.1:{lo}-{hi}", "127.0.0.1:80",
                  f"[::1]:{lo}-{hi}"],
         "fileno": True}])
    a = agents(d, NOBODY)

    def bind(host, port, family="AF_INET"):
        h = a.socket(family)
        # A safe option: no grant needed.
        a.ok("SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                            "option": "SO_REUSEADDR", "value": 1})
        return h, a.call("Bind", {"handle": h, "address": inet(host, port)})

    for port in (lo - 1, hi + 1):
        _, res = bind("127.0.0.1", port)
        a.expect_refused(res, "web", f"bind {port}")
        assert_refusal_logged(d, NOBODY, f"Bind 127.0.0.1:{port}")
    for port in (lo, hi):
        h, res = bind("127.0.0.1", port)
        assert res == {"ok": {}}, res
        assert a.ok("GetSockName", {"handle": h})["address"]["port"] == port
        a.ok("Close", {"handle": h})
    assert_grant_logged(d, NOBODY, f"Bind 127.0.0.1:{lo}", "web")
    # Another address in the same range is not granted.
    a.expect_refused(bind("127.0.0.2", lo)[1], "web")
    # IPv6.
    a.expect_refused(bind("::1", lo - 1, "AF_INET6")[1], "web")
    a.expect_refused(bind("::1", hi + 1, "AF_INET6")[1], "web")
    h6, res = bind("::1", hi, "AF_INET6")
    assert res == {"ok": {}}, res
    assert a.ok("GetSockName", {"handle": h6})["address"]["port"] == hi

    # authbind: port 80 for an unprivileged uid, served for real.
    a.expect_refused(bind("127.0.0.1", 81)[1], "web")
    h80, res = bind("127.0.0.1", 80)
    assert res == {"ok": {}}, res
    a.ok("Listen", {"handle": h80})
    peer = socket.create_connection(("127.0.0.1", 80), timeout=10)
    # The listener's fd works in the unprivileged process.
    got = a.fileno(h80, detach=True)
    assert got["fd"]["local"] == ["127.0.0.1", 80], got
    port = a.run("s, _ = fds['fd'].accept(); s.sendall(b'hi from 80');"
                 "result = s.getsockname()[1]; fds['conn'] = s")
    assert port == 80
    assert peer.recv(100) == b"hi from 80"
    peer.close()  # first, so that the TIME_WAIT is not on port 80
    assert a.run("s = fds['conn']; s.settimeout(10); result = len(s.recv(9));"
                 "s.close()") == 0


# -- Connect, ConnectEx, SendTo: CIDR edges -------------------------------

def test_connect_cidr_edges(start_sockd, tmpdir_short, agents):
    inside = ["127.0.1.0", "127.0.1.255", "127.0.2.4", "127.0.2.5"]
    outside = ["127.0.0.255", "127.0.2.0", "127.0.2.3", "127.0.2.6"]
    lsn = {h: listener(h) for h in inside + outside}
    ports = {h: s.getsockname()[1] for h, s in lsn.items()}
    exact = listener("127.0.3.1")
    exact_port = exact.getsockname()[1]
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "nets", "users": ["nobody"], "families": ["AF_INET"],
         "types": ["SOCK_STREAM", "SOCK_DGRAM"],
         "connect": ["127.0.1.0/24:*", "127.0.2.4/31",
                     f"127.0.3.1:{exact_port}"]}])
    a = agents(d, NOBODY)
    for host in inside:
        h = a.socket()
        a.ok("Connect", {"handle": h, "address": inet(host, ports[host])})
        peer, addr = lsn[host].accept()
        local = a.ok("GetSockName", {"handle": h})["address"]
        assert addr[1] == local["port"]
        peer.close()
    for host in outside:
        h = a.socket()
        a.refused("Connect", {"handle": h,
                              "address": inet(host, ports[host])}, "nets")
        assert_refusal_logged(d, NOBODY, f"Connect {host}:{ports[host]}")
    # The port part of a pattern.
    h = a.socket()
    a.refused("Connect", {"handle": h,
                          "address": inet("127.0.3.1", exact_port + 1)},
              "nets")
    a.ok("Connect", {"handle": h, "address": inet("127.0.3.1", exact_port)})
    exact.accept()[0].close()
    assert_grant_logged(d, NOBODY, f"Connect 127.0.3.1:{exact_port}", "nets")

    # ConnectEx: a grant gives the connect's errno, a refusal is EACCES.
    h = a.socket()
    res = a.ok("ConnectEx", {"handle": h, "address":
                             inet("127.0.2.5", ports["127.0.2.5"])})
    assert res == {"errno": 0, "name": ""}, res
    lsn["127.0.2.5"].accept()[0].close()
    h = a.socket()
    a.refused("ConnectEx", {"handle": h, "address":
                            inet("127.0.2.6", ports["127.0.2.6"])}, "nets")
    assert_refusal_logged(d, NOBODY, "ConnectEx 127.0.2.6")
    for s in list(lsn.values()) + [exact]:
        s.close()

    # SendTo: the datagram goes out only when granted.
    rx = {}
    for host in ("127.0.1.255", "127.0.2.0", "127.0.2.4", "127.0.2.3"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((host, 0))
        rx[host] = s
    u = a.socket("AF_INET", "SOCK_DGRAM")
    for host in ("127.0.2.0", "127.0.2.3"):
        a.refused("SendTo", {"handle": u, "data": b64(b"no"),
                             "address": inet(host, rx[host].getsockname()[1])},
                  "nets")
        assert_refusal_logged(d, NOBODY, f"SendTo {host}")
    for host in ("127.0.1.255", "127.0.2.4"):
        data = b"yes " + host.encode()
        res = a.ok("SendTo", {"handle": u, "data": b64(data),
                              "address": inet(host,
                                              rx[host].getsockname()[1])})
        assert res == {"sent": len(data)}
        rx[host].settimeout(10)
        assert rx[host].recv(100) == b"yes " + host.encode()
    for host in ("127.0.2.0", "127.0.2.3"):
        with pytest.raises(BlockingIOError):
            rx[host].recv(100, socket.MSG_DONTWAIT)
    for s in rx.values():
        s.close()


def test_ipv6_patterns(start_sockd, tmpdir_short, agents):
    good = listener("::1", socket.AF_INET6)
    bad = listener("::1", socket.AF_INET6)
    gp, bp = good.getsockname()[1], bad.getsockname()[1]
    v4 = listener("127.0.0.1")
    v4p = v4.getsockname()[1]
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "v6", "users": [OTHER], "families": ["AF_INET6",
                                                      "AF_INET"],
         "types": ["SOCK_STREAM"],
         "connect": [f"[::1]:{gp}", "[fe80::/10]:*", "[::/127]:1-2",
                     f"[::/0]:{v4p}"]}])
    a = agents(d, OTHER)
    h = a.socket("AF_INET6")
    a.refused("Connect", {"handle": h, "address": inet("::1", bp)}, "v6")
    assert_refusal_logged(d, OTHER, f"Connect [::1]:{bp}")
    a.ok("Connect", {"handle": h, "address": inet("::1", gp)})
    peer, _ = good.accept()
    a.ok("SendAll", {"handle": h, "data": b64(b"six")})
    assert peer.recv(10) == b"six"
    peer.close()
    # An IPv6 pattern, even [::/0], says nothing about IPv4.
    h = a.socket("AF_INET")
    a.refused("Connect", {"handle": h, "address": inet("127.0.0.1", v4p)},
              "v6")
    h = a.socket("AF_INET6")
    # [::/127]:1-2 covers ::1 on ports 1 and 2 only; the port is checked.
    a.refused("Connect", {"handle": h, "address": inet("::1", 3)}, "v6")
    res = a.ok("ConnectEx", {"handle": h, "address": inet("::1", 2)})
    assert res["name"] == "ECONNREFUSED", res
    for s in (good, bad, v4):
        s.close()


# -- Unix paths --------------------------------------------------------------

def test_unix_path_prefixes_and_abstract(start_sockd, tmpdir_short, agents):
    base = tmpdir_short
    paths = {}
    servers = {}
    for name in ("allowed/s.sock", "allowed/sub/t.sock",
                 "allowed-other/s.sock", "secret/s.sock"):
        p = os.path.join(base, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(p)
        s.listen(4)
        s.settimeout(10)
        # A grant never widens the caller's own rights: the sockets are
        # open to everyone, as a service's meant for others would be.
        os.chmod(p, 0o666)
        paths[name], servers[name] = p, s
    # ... and nobody may create entries where it is granted to bind.
    os.chmod(os.path.join(base, "allowed"), 0o1777)
    tag = f"sockd-rules-{os.getpid()}-{time.monotonic_ns()}"
    abstract = {}
    for name in (f"{tag}-ok", f"other-{tag}"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind("\0" + name)
        s.listen(4)
        s.settimeout(10)
        abstract[name] = s
    allowed = os.path.join(base, "allowed")
    d = policy_daemon(start_sockd, base, [
        {"name": "unix", "users": ["nobody"], "families": ["AF_UNIX"],
         "types": ["SOCK_STREAM"],
         "connect": [f"unix:{allowed}", f"unix:@{tag}"],
         "bind": [f"unix:{allowed}/"]}])
    a = agents(d, NOBODY)

    def connect(path):
        h = a.socket("AF_UNIX")
        return a.call("Connect", {"handle": h, "address": {"path": path}})

    for name in ("allowed/s.sock", "allowed/sub/t.sock"):
        assert connect(paths[name]) == {"ok": {}}
        servers[name].accept()[0].close()
    assert_grant_logged(d, NOBODY, "Connect " + paths["allowed/s.sock"],
                        "unix")
    # A sibling that shares the prefix as a string is not inside.
    a.expect_refused(connect(paths["allowed-other/s.sock"]), "unix")
    assert_refusal_logged(d, NOBODY,
                          "Connect " + paths["allowed-other/s.sock"])
    # No way out with "..", nor with a relative path.
    escape = os.path.join(allowed, "..", "secret", "s.sock")
    a.expect_refused(connect(escape), "unix")
    a.expect_refused(connect(os.path.join(allowed, "sub", "..", "..", "secret",
                                      "s.sock")), "unix")
    a.expect_refused(connect("allowed/s.sock"), "unix")
    for name in ("allowed-other/s.sock", "secret/s.sock"):
        with pytest.raises(BlockingIOError):
            servers[name].setblocking(False)
            servers[name].accept()
    # Abstract names: "@prefix" is a plain prefix.
    assert connect(f"@{tag}-ok") == {"ok": {}}
    abstract[f"{tag}-ok"].accept()[0].close()
    a.expect_refused(connect(f"@other-{tag}"), "unix")
    assert_refusal_logged(d, NOBODY, f"Connect @other-{tag}")
    # Bind: "unix:DIR/" grants paths under DIR only.
    h = a.socket("AF_UNIX")
    res = a.call("Bind", {"handle": h, "address": {
        "path": os.path.join(base, "b.sock")}})
    a.expect_refused(res, "unix")
    a.ok("Bind", {"handle": h, "address": {
        "path": os.path.join(allowed, "b.sock")}})
    assert os.path.exists(os.path.join(allowed, "b.sock"))
    for s in list(servers.values()) + list(abstract.values()):
        s.close()


# -- Names -------------------------------------------------------------------

def test_resolve_and_names_leading_to_forbidden_addresses(
        start_sockd, tmpdir_short, agents):
    forbidden = listener("127.0.0.1")
    fport = forbidden.getsockname()[1]
    allowed = listener("127.0.0.2")
    aport = allowed.getsockname()[1]
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "names", "users": ["nobody"], "families": ["AF_INET"],
         "types": ["SOCK_STREAM"], "resolve": ["localhost"],
         "connect": ["127.0.0.2:*"]},
        {"name": "no-names", "users": [OTHER], "families": ["AF_INET"],
         "types": ["SOCK_STREAM"], "connect": ["127.0.0.0/8:*"]}])
    a = agents(d, NOBODY)
    res = a.ok("GetAddrInfo", {"host": "localhost", "port": 80,
                               "family": "AF_INET", "type": "SOCK_STREAM"})
    assert {x["address"]["host"] for x in res["addresses"]} == {"127.0.0.1"}
    # Host patterns ignore case.
    a.ok("GetAddrInfo", {"host": "LocalHost", "family": "AF_INET"})
    assert_grant_logged(d, NOBODY, "resolve LocalHost", "names")
    # A name not listed is refused before any lookup.
    a.refused("GetAddrInfo", {"host": "example.invalid"}, "names")
    assert_refusal_logged(d, NOBODY, "resolve example.invalid")
    # A numeric host needs no resolve grant.
    res = a.ok("GetAddrInfo", {"host": "127.0.0.9", "port": 7})
    assert res["addresses"][0]["address"]["host"] == "127.0.0.9"
    # The resolved address is what is checked: "localhost" is 127.0.0.1,
    # which this rule may not connect to.
    h = a.socket()
    msg = a.refused("Connect", {"handle": h,
                                "address": inet("localhost", fport)},
                    "names")
    assert f"127.0.0.1:{fport}" in msg, msg
    assert_refusal_logged(d, NOBODY, f"Connect 127.0.0.1:{fport}")
    a.ok("Connect", {"handle": h, "address": inet("127.0.0.2", aport)})
    allowed.accept()[0].close()

    o = agents(d, OTHER)
    o.refused("GetAddrInfo", {"host": "localhost"}, "no-names")
    h = o.socket()
    msg = o.refused("Connect", {"handle": h,
                                "address": inet("localhost", fport)},
                    "no-names")
    assert "resolve localhost" in msg, msg
    # Reverse lookups ask too (a numeric address is the name asked for).
    o.refused("GetNameInfo", {"address": inet("127.0.0.1", 80)}, "no-names")
    o.refused("GetHostByAddr", {"host": "127.0.0.1"}, "no-names")
    res = o.ok("GetNameInfo", {"address": inet("127.0.0.1", 80),
                               "flags": ["NI_NUMERICHOST", "NI_NUMERICSERV"]})
    assert res == {"host": "127.0.0.1", "port": "80"}
    o.ok("Connect", {"handle": h, "address": inet("127.0.0.1", fport)})
    forbidden.accept()[0].close()
    forbidden.close()
    allowed.close()


# -- Raw sockets -------------------------------------------------------------

def icmp_echo(ident, seq, payload):
    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack(f"!{len(b) // 2}H", b))
        s = (s >> 16) + (s & 0xffff)
        s += s >> 16
        return ~s & 0xffff
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident,
                       seq) + payload


def ping_through(a, h, host, ident):
    """Send an ICMP echo request through handle h and wait for the reply
    (a raw IPv4 socket also sees the request itself)."""
    a.ok("SetTimeout", {"handle": h, "timeout": 5})
    pkt = icmp_echo(ident, 1, b"sockd-policy")
    res = a.ok("SendTo", {"handle": h, "data": b64(pkt),
                          "address": inet(host, 0)})
    assert res["sent"] == len(pkt)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = a.ok("RecvFrom", {"handle": h, "bufsize": 1500})
        data = base64.b64decode(got["data"])
        ihl = (data[0] & 0x0f) * 4
        typ, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if typ == 0 and rid == ident:
            assert data[ihl + 8:] == b"sockd-policy"
            return got["address"]["host"]
    raise AssertionError("no echo reply")


def test_raw_icmp_only_when_named(start_sockd, tmpdir_short, agents):
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "ping", "groups": [GID_EXTRA], "families": ["AF_INET"],
         "types": ["SOCK_RAW"], "connect": ["127.0.0.1"]},
        {"name": "no-raw", "users": ["nobody"], "families": ["*"],
         "types": ["*"], "connect": ["*"]}])
    a = agents(d, GROUPIE, groups=[GID_EXTRA])
    h = a.socket("AF_INET", "SOCK_RAW", proto=1)
    assert ping_through(a, h, "127.0.0.1", 0x5151) == "127.0.0.1"
    a.refused("SendTo", {"handle": h, "data": b64(icmp_echo(1, 1, b"x")),
                         "address": inet("127.0.0.3", 0)}, "ping")
    assert_refusal_logged(d, GROUPIE, "SendTo 127.0.0.3")
    n = agents(d, NOBODY)
    n.refused("Socket", {"family": "AF_INET", "type": "SOCK_RAW",
                         "proto": 1}, "no-raw")


# -- FileNo ------------------------------------------------------------------

def test_fileno_share_detach(start_sockd, tmpdir_short, agents):
    base = {"families": ["AF_INET"], "types": ["SOCK_DGRAM"]}
    d = policy_daemon(start_sockd, tmpdir_short, [
        dict(name="share", users=["nobody"], fileno="share", **base),
        dict(name="detach", users=[OTHER], fileno="detach", **base),
        dict(name="both", groups=[GID_EXTRA], fileno=True, **base),
        dict(name="none", users=[NOFD], fileno=False, **base),
    ])
    who = [(agents(d, NOBODY), "share", {False}),
           (agents(d, OTHER), "detach", {True}),
           (agents(d, GROUPIE, groups=[GID_EXTRA]), "both", {False, True}),
           (agents(d, NOFD), "none", set())]
    for a, rule, allowed in who:
        for detach in (False, True):
            h = a.socket("AF_INET", "SOCK_DGRAM")
            if detach not in allowed:
                res = a.call("FileNo", {"handle": h, "detach": detach})
                a.expect_refused(res, rule, f"{rule} detach={detach}")
                assert_refusal_logged(
                    d, a.uid, "fileno detach" if detach else "fileno:")
                # Still the daemon's.
                a.ok("GetSockName", {"handle": h})
                continue
            got = a.fileno(h, detach=detach)
            assert got.get("ok") == {"fd": 0}, got
            assert got["fd"]["family"] == "AF_INET"
            assert got["fd"]["type"] == "SOCK_DGRAM"
            # The fd is the handle's socket: bind it here, see it there.
            port = a.run("s = fds['fd']; s.bind(('127.0.0.1', 0));"
                         "result = s.getsockname()[1]")
            if detach:
                a.ebadf("GetSockName", {"handle": h})
            else:
                addr = a.ok("GetSockName", {"handle": h})["address"]
                assert addr["port"] == port
            assert_grant_logged(
                d, a.uid, "fileno detach for" if detach else "fileno for",
                rule)


# -- SetSockOpt ---------------------------------------------------------------

def test_setsockopt_safe_and_granted(start_sockd, tmpdir_short, agents):
    base = {"families": ["AF_INET"], "types": ["SOCK_STREAM"]}
    d = policy_daemon(start_sockd, tmpdir_short, [
        dict(name="plain", users=["nobody"], **base),
        dict(name="marks", users=[OTHER],
             options=["SO_MARK", "SO_BINDTODEVICE"], **base)])
    lo_dev = b64(b"lo\0")
    a = agents(d, NOBODY)
    h = a.socket()
    a.ok("SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                        "option": "SO_REUSEADDR", "value": 1})
    a.ok("SetSockOpt", {"handle": h, "level": "IPPROTO_TCP",
                        "option": "TCP_NODELAY", "value": 1})
    assert a.ok("GetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                               "option": "SO_REUSEADDR"})["value"] == 1
    a.refused("SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                             "option": "SO_MARK", "value": 7}, "plain")
    assert_refusal_logged(d, NOBODY, "setsockopt SO_MARK")
    a.refused("SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                             "option": "SO_BINDTODEVICE", "data": lo_dev},
              "plain")
    assert_refusal_logged(d, NOBODY, "setsockopt SO_BINDTODEVICE")
    assert a.ok("GetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                               "option": "SO_MARK"})["value"] == 0

    o = agents(d, OTHER)
    h = o.socket()
    o.ok("SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                        "option": "SO_MARK", "value": 7})
    assert o.ok("GetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                               "option": "SO_MARK"})["value"] == 7
    o.ok("SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                        "option": "SO_BINDTODEVICE", "data": lo_dev})
    assert_grant_logged(d, OTHER, "setsockopt SO_BINDTODEVICE", "marks")
    o.refused("SetSockOpt", {"handle": h, "level": "IPPROTO_IP",
                             "option": "IP_TRANSPARENT", "value": 1},
              "marks")


# -- Quotas ------------------------------------------------------------------

def test_quotas(start_sockd, tmpdir_short, agents):
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "small", "users": [QUOTA], "families": ["AF_UNIX"],
         "types": ["SOCK_DGRAM"], "max_handles": 3, "max_connections": 2},
        {"name": "roomy", "users": ["nobody"], "families": ["AF_UNIX"],
         "types": ["SOCK_DGRAM"]}])
    a = agents(d, QUOTA)
    hs = [a.socket("AF_UNIX", "SOCK_DGRAM", conn=0),
          a.socket("AF_UNIX", "SOCK_DGRAM", conn=1),
          a.socket("AF_UNIX", "SOCK_DGRAM", conn=0, persistent=True)]
    res = a.call("Socket", {"family": "AF_UNIX", "type": "SOCK_DGRAM"})
    assert res.get("error") == "io.sockd.OSError", res
    assert res["parameters"]["errno"] == errno.EMFILE, res
    assert "quota" in res["parameters"]["message"], res
    a.ok("Close", {"handle": hs[0]})
    a.socket("AF_UNIX", "SOCK_DGRAM")
    # A third connection at once is one too many: told so, and closed.
    res = a.request({"op": "greeting", "conn": 2, "timeout": 10})
    assert res["ok"].get("error") == "io.sockd.ProtocolError", res
    assert "too many connections" in \
        res["ok"]["parameters"]["message"], res
    assert a.run("result = conn(2).wait_closed(10)") == []
    assert len(a.ok("List", conn=1)["sockets"]) == 3
    # Another uid has the global limits.
    n = agents(d, NOBODY)
    for _ in range(5):
        n.socket("AF_UNIX", "SOCK_DGRAM")
    for k in range(3):
        n.ok("List", conn=k)


# -- Isolation ---------------------------------------------------------------

def test_other_uid_cannot_touch_a_handle(start_sockd, tmpdir_short, agents):
    rule = {"families": ["AF_INET"], "types": ["SOCK_STREAM", "SOCK_DGRAM"],
            "fileno": True, "connect": ["127.0.0.0/8:*"]}
    d = policy_daemon(start_sockd, tmpdir_short, [
        dict(name="a", users=["nobody"], **rule),
        dict(name="b", users=[OTHER], **rule)])
    owner = agents(d, NOBODY)
    h, peer = None, None
    lst = listener("127.0.0.1")
    h = owner.socket(persistent=True, name="mine")
    owner.ok("Connect", {"handle": h, "address":
                         inet("127.0.0.1", lst.getsockname()[1])})
    peer, _ = lst.accept()
    u = owner.socket("AF_INET", "SOCK_DGRAM")
    thief = agents(d, OTHER)
    assert thief.ok("List") == {"sockets": []}
    for method, params in [
            ("GetSockName", {"handle": h}),
            ("GetPeerName", {"handle": h}),
            ("Send", {"handle": h, "data": b64(b"x")}),
            ("Recv", {"handle": h, "bufsize": 1}),
            ("SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                            "option": "SO_KEEPALIVE", "value": 1}),
            ("SetTimeout", {"handle": h, "timeout": 1}),
            ("Shutdown", {"handle": h, "how": "SHUT_RDWR"}),
            ("Poll", {"items": [{"handle": h, "events": ["POLLIN"]}],
                      "timeout": 0}),
            ("SendTo", {"handle": u, "data": b64(b"x"),
                        "address": inet("127.0.0.1", 9)}),
            ("Close", {"handle": h}),
            ("Close", {"handle": u})]:
        thief.ebadf(method, params)
    res = thief.fileno(h, detach=True)
    assert res.get("error") == "io.sockd.OSError", res
    assert res["parameters"]["errno"] == errno.EBADF, res
    assert thief.ok("List") == {"sockets": []}
    # The owner, from another connection, still has both and they work.
    mine = owner.ok("List", conn=1)["sockets"]
    assert sorted(s["handle"] for s in mine) == sorted([h, u])
    assert all(s["owner"] == NOBODY for s in mine)
    owner.ok("SendAll", {"handle": h, "data": b64(b"still mine")}, conn=1)
    assert peer.recv(100) == b"still mine"
    owner.ok("Close", {"handle": h})
    peer.close()
    lst.close()


# -- A client without a network -------------------------------------------

def test_unshared_network_gets_a_socket(start_sockd, tmpdir_short, agents):
    lst = listener("127.0.0.1")
    port = lst.getsockname()[1]
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "sandbox", "users": ["nobody"], "families": ["AF_INET"],
         "types": ["SOCK_STREAM"], "connect": [f"127.0.0.1:{port}"],
         "fileno": "detach"}])
    a = agents(d, NOBODY, prefix=[UNSHARE, "-n"])
    # No network of its own: even loopback is down in there.
    err = a.run("s = socket.socket(); s.settimeout(5)\n"
                "try:\n    s.connect(('127.0.0.1', port)); result = 0\n"
                "except OSError as e:\n    result = e.errno\n", port=port)
    assert err in (errno.ENETUNREACH, errno.EADDRNOTAVAIL), err
    h = a.socket()
    a.ok("Connect", {"handle": h, "address": inet("127.0.0.1", port)})
    peer, _ = lst.accept()
    got = a.fileno(h, detach=True)
    assert got["fd"]["type"] == "SOCK_STREAM", got
    a.ebadf("GetSockName", {"handle": h})
    a.run("s = fds['fd']; s.setblocking(True); s.sendall(b'ping')")
    assert peer.recv(10) == b"ping"
    peer.sendall(b"pong")
    assert a.run("s = fds['fd']; s.settimeout(10); result = "
                 "s.recv(10).decode()") == "pong"
    a.run("fds['fd'].close()")
    assert peer.recv(10) == b""
    peer.close()
    lst.close()


# -- Reload ------------------------------------------------------------------

def test_reload(start_sockd, tmpdir_short, agents):
    l1, l2 = listener("127.0.0.1"), listener("127.0.0.1")
    p1, p2 = l1.getsockname()[1], l2.getsockname()[1]
    l6 = listener("::1", socket.AF_INET6)
    p6 = l6.getsockname()[1]
    path = os.path.join(tmpdir_short, "policy.json")
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "before", "users": ["nobody"], "families": ["AF_INET"],
         "types": ["SOCK_STREAM"], "connect": [f"127.0.0.1:{p1}"]}])
    a = agents(d, NOBODY)
    old = a.socket()
    a.ok("Connect", {"handle": old, "address": inet("127.0.0.1", p1)})
    peer, _ = l1.accept()
    spare = a.socket()
    a.refused("Socket", {"family": "AF_INET6", "type": "SOCK_STREAM"},
              "before")

    # A good new file: IPv6 only, and p2 instead of p1.
    write_policy(path, [
        {"name": "after", "users": ["nobody"], "families": ["AF_INET6"],
         "types": ["SOCK_STREAM"],
         "connect": [f"127.0.0.1:{p2}", f"[::1]:{p6}"]}])
    d.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "ok" in a.call("Socket", {"family": "AF_INET6",
                                                 "type": "SOCK_STREAM"}),
               timeout=10, what="the reloaded policy")
    assert log_lines(d, "loaded policy", path)
    # The old handle still does I/O...
    a.ok("SendAll", {"handle": old, "data": b64(b"kept")})
    assert peer.recv(10) == b"kept"
    peer.sendall(b"back")
    assert base64.b64decode(a.ok("Recv", {"handle": old, "bufsize": 10})
                            ["data"]) == b"back"
    # ...but new checked operations follow the new policy.
    a.refused("Socket", {"family": "AF_INET", "type": "SOCK_STREAM"},
              "after")
    a.refused("Connect", {"handle": spare,
                          "address": inet("127.0.0.1", p1)}, "after")
    assert_refusal_logged(d, NOBODY, f"Connect 127.0.0.1:{p1}")
    a.ok("Connect", {"handle": spare, "address": inet("127.0.0.1", p2)})
    l2.accept()[0].close()

    # A broken file: logged with its line, the policy in force stays.
    with open(path, "w") as f:
        f.write('{\n  "rules": [\n    { "name": "broken",\n'
                '      "users": ["nobody"],\n'
                '      "families": ["AF_INET", "AF_NOPE"] }\n  ]\n}\n')
    d.proc.send_signal(signal.SIGHUP)
    line = wait_until(lambda: log_lines(d, path, "line 5", "AF_NOPE"),
                      timeout=10, what="the reload error in the log")
    assert "keeping policy" in line[0], line
    h6 = a.socket("AF_INET6")
    a.ok("Connect", {"handle": h6, "address": inet("::1", p6)})
    l6.accept()[0].close()
    a.refused("Socket", {"family": "AF_INET", "type": "SOCK_STREAM"},
              "after")
    a.ok("SendAll", {"handle": old, "data": b64(b"still")})
    assert peer.recv(10) == b"still"
    peer.close()
    for s in (l1, l2, l6):
        s.close()


# -- --check-policy ----------------------------------------------------------

def check_policy(tmpdir, text, name="policy.json"):
    path = os.path.join(tmpdir, name)
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run([SOCKD, "--check-policy", path], capture_output=True,
                       timeout=30)
    err = p.stderr.decode()
    assert not any(m in err for m in SANITIZER_MARKS), err
    return p.returncode, p.stdout.decode(), err, path


GOOD_POLICY = """\
// JSON with comments.
{
  /* Two rules. */
  "rules": [
    { "name": "web", "users": ["www-data", 65533],
      "families": ["AF_INET", "AF_INET6"], "types": ["SOCK_STREAM"],
      "bind": ["0.0.0.0:80", "[::]:443", "127.0.0.1:8000-8099"],
      "fileno": "detach" },
    { "groups": ["backup", 4242], "families": ["*"], "types": ["*"],
      "connect": ["10.0.0.0/8:1-1023", "unix:/run/x/", "unix:@y"],
      "resolve": ["*.example.org", "localhost"],
      "options": ["SO_MARK"], "max_handles": 7, "max_connections": 3 }
  ]
}
"""


def test_check_policy_good(tmpdir_short):
    rc, out, err, path = check_policy(tmpdir_short, GOOD_POLICY)
    assert rc == 0, err
    assert err == ""
    assert out.startswith(f"policy {path}: 2 rules\n"), out
    assert out.endswith(f"{path}: ok\n"), out
    assert 'rule "web":' in out and 'rule "rule 2":' in out, out
    assert "  users: 33 65533\n" in out, out
    assert "  groups: 34 4242\n" in out, out
    assert "  bind: 0.0.0.0:80 [::]:443 127.0.0.1:8000-8099\n" in out, out
    assert "  fileno: detach\n" in out, out
    assert "  types: SOCK_STREAM SOCK_DGRAM SOCK_RDM SOCK_SEQPACKET\n" \
        in out, out
    assert "AF_PACKET" not in out
    assert "  max_handles: 7\n" in out and "  max_connections: 3\n" in out
    # An empty list of rules is a valid (if useless) policy.
    rc, out, err, _ = check_policy(tmpdir_short, '{"rules": []}')
    assert rc == 0 and "0 rules" in out, (out, err)


BROKEN = {
    "bad-json": ('{\n  "rules": [\n    { "name": "a", "users": ["nobody"]\n'
                 '      "families": ["AF_INET"] }\n  ]\n}\n', 4,
                 "not valid JSON"),
    "unknown-key": ('{\n  "rules": [\n    { "name": "a",\n'
                    '      "users": ["nobody"],\n'
                    '      "familes": ["AF_INET"] }\n  ]\n}\n', 5,
                    'unknown key "familes"'),
    "unknown-top-key": ('{\n  "rules": [],\n  "rulez": []\n}\n', 3,
                        'unknown key "rulez"'),
    "unknown-family": ('{\n  "rules": [\n    { "name": "a",\n'
                       '      "users": ["nobody"],\n'
                       '      "types": ["SOCK_STREAM"],\n'
                       '      "families": ["AF_INET", "AF_INTE6"] }\n'
                       '  ]\n}\n', 6, 'unknown name "AF_INTE6"'),
    "bad-cidr": ('{\n  "rules": [\n    { "name": "a",\n'
                 '      "users": ["nobody"],\n'
                 '      "connect": ["127.0.0.0/33:80"] }\n  ]\n}\n', 5,
                 'bad address pattern "127.0.0.0/33:80"'),
    "bad-port-range": ('{\n  "rules": [\n    { "name": "a",\n'
                       '      "users": ["nobody"],\n'
                       '      "bind": ["127.0.0.1:90-80"] }\n  ]\n}\n', 5,
                       'bad address pattern "127.0.0.1:90-80"'),
    "port-too-big": ('{\n  "rules": [\n    { "name": "a",\n'
                     '      "users": ["nobody"],\n'
                     '      "bind": ["[::1]:65536"] }\n  ]\n}\n', 5,
                     'bad address pattern "[::1]:65536"'),
    "unknown-user": ('{\n  "rules": [\n    { "name": "a",\n'
                     '      "users": ["no-such-user-sockd"] }\n  ]\n}\n', 4,
                     'no user "no-such-user-sockd"'),
    "unknown-group": ('{\n  "rules": [\n    { "name": "a",\n'
                      '      "users": ["nobody"],\n'
                      '      "groups": ["no-such-group-sockd"] }\n'
                      '  ]\n}\n', 5, 'no group "no-such-group-sockd"'),
    "matches-nobody": ('{\n  "rules": [\n    { "name": "lonely",\n'
                       '      "families": ["AF_INET"] }\n  ]\n}\n', 3,
                       "lonely: matches nobody"),
    "bad-fileno": ('{\n  "rules": [\n    { "name": "a",\n'
                   '      "users": ["nobody"],\n'
                   '      "fileno": "always" }\n  ]\n}\n', 5, '"fileno"'),
    "bad-option": ('{\n  "rules": [\n    { "name": "a",\n'
                   '      "users": ["nobody"],\n'
                   '      "options": ["SO_NOPE"] }\n  ]\n}\n', 5,
                   'unknown socket option "SO_NOPE"'),
    "bad-quota": ('{\n  "rules": [\n    { "name": "a",\n'
                  '      "users": ["nobody"],\n'
                  '      "max_handles": 0 }\n  ]\n}\n', 5,
                  '"max_handles" must be 1 to'),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_check_policy_broken(tmpdir_short, case):
    text, line, words = BROKEN[case]
    rc, out, err, path = check_policy(tmpdir_short, text)
    assert rc == 1, (case, out, err)
    assert out == "", out
    assert err.startswith(f"sockd: {path}: line {line}: "), (case, err)
    assert words in err, (case, err)
    assert err.count("\n") == 1, err


LINE_CASES = [
    # An error in a rule without a name: that rule's line, not the line
    # of the same key in an earlier rule.
    ('{ "rules": [\n'
     '  { "users": ["nobody"],\n'
     '    "families": ["AF_INET"] },\n'
     '  { "users": ["nobody"],\n'
     '    "families": ["AF_BOGUS"] }\n'
     '] }\n', 5, 'rule 2: unknown name "AF_BOGUS"'),
    # A rule without a name that matches nobody: still a line.
    ('{ "rules": [\n'
     '  { "users": ["nobody"] },\n'
     '  {\n'
     '    "families": ["AF_INET"] }\n'
     '] }\n', 3, "rule 2: matches nobody"),
    # A named rule that matches nobody, followed by another rule.
    ('{ "rules": [\n'
     '  { "name": "lonely",\n'
     '    "families": ["AF_INET"] },\n'
     '  { "name": "fine", "users": ["nobody"] }\n'
     '] }\n', 2, "lonely: matches nobody"),
    # A key written before the rule's "name".
    ('{ "rules": [\n'
     '  { "name": "a", "users": ["nobody"],\n'
     '    "families": ["AF_INET"] },\n'
     '  { "users": ["nobody"],\n'
     '    "families": ["AF_BOGUS"],\n'
     '    "name": "b" }\n'
     '] }\n', 5, 'b: unknown name "AF_BOGUS"'),
]


@pytest.mark.parametrize("case", range(len(LINE_CASES)))
def test_check_policy_line_of_the_rule_in_error(tmpdir_short, case):
    """The line named is that of the rule in error, whatever the rules
    before and after it, named or not."""
    text, line, words = LINE_CASES[case]
    rc, _, err, path = check_policy(tmpdir_short, text)
    assert rc == 1
    assert err.startswith(f"sockd: {path}: line {line}: {words}"), err


def test_check_policy_trailing_garbage(tmpdir_short):
    """Text after the JSON object is an error, not ignored."""
    rc, out, err, path = check_policy(
        tmpdir_short, '{"rules": []}\n{"rules": [{"users": ["*"]}]}\n')
    assert rc == 1, out
    assert err.startswith(f"sockd: {path}: line 2: "), err


def test_bad_policy_at_start_is_fatal(tmpdir_short):
    path = os.path.join(tmpdir_short, "policy.json")
    with open(path, "w") as f:
        f.write('{"rules": [{"name": "x", "users": ["nobody"],\n'
                '"bind": ["1.2.3.4/40"]}]}\n')
    p = subprocess.run([SOCKD, "--socket",
                        os.path.join(tmpdir_short, "s.sock"), "--policy",
                        path], capture_output=True, timeout=30)
    err = p.stderr.decode()
    assert p.returncode == 1, p
    assert not any(m in err for m in SANITIZER_MARKS), err
    assert f"policy {path}: line 2: x: bad address pattern" in err, err
    assert not os.path.exists(os.path.join(tmpdir_short, "s.sock"))


# -- The examples of sockd.policy(5) ----------------------------------------

def man_examples():
    """The example policies in the man page's roff source, by name."""
    with open(MAN_PAGE) as f:
        lines = f.read().splitlines()
    examples, name = {}, None
    for ln in lines:
        m = re.match(r'^\.\\" example-begin (\S+)$', ln)
        if m:
            name = m.group(1)
            examples[name] = []
        elif ln == '.\\" example-end':
            name = None
        elif name is not None and not ln.startswith("."):
            examples[name].append(ln.replace("\\-", "-")
                                  .replace("\\e", "\\"))
    return {k: "\n".join(v) + "\n" for k, v in examples.items()}


def test_man_page_examples(start_sockd, tmpdir_short, agents):
    ex = man_examples()
    assert sorted(ex) == ["monitoring", "sandbox", "web"], sorted(ex)
    for name, text in ex.items():
        rc, out, err, _ = check_policy(tmpdir_short, text, name + ".json")
        assert rc == 0, (name, err)
        assert out.endswith(": ok\n")

    # All three at once, as one file would hold them.
    rules = []
    for name in ("sandbox", "web", "monitoring"):
        rules += json.loads(re.sub(r"//[^\n]*", "", ex[name]))["rules"]
    d = policy_daemon(start_sockd, tmpdir_short, rules)

    # (1) The sandboxed client (uid 1500): 127.0.0.1:5432 only, fd
    # detached.
    sb = agents(d, 1500)
    h = sb.socket()
    res = sb.ok("ConnectEx", {"handle": h,
                              "address": inet("127.0.0.1", 5432)})
    assert res["name"] in ("", "ECONNREFUSED"), res
    sb.refused("Connect", {"handle": h, "address": inet("127.0.0.1", 5433)},
               "sandbox")
    got = sb.fileno(h, detach=True)
    assert got.get("ok") == {"fd": 0}, got

    # (2) www-data serves :80 and :443 on IPv4 and IPv6.
    www = agents(d, 33)
    h4 = www.socket("AF_INET")
    www.ok("SetSockOpt", {"handle": h4, "level": "SOL_SOCKET",
                          "option": "SO_REUSEADDR", "value": 1})
    www.ok("Bind", {"handle": h4, "address": inet("0.0.0.0", 80)})
    www.ok("Listen", {"handle": h4})
    got = www.fileno(h4, detach=True, name="web4")
    assert got["fd"]["local"] == ["0.0.0.0", 80], got
    h6 = www.socket("AF_INET6")
    www.ok("SetSockOpt", {"handle": h6, "level": "IPPROTO_IPV6",
                          "option": "IPV6_V6ONLY", "value": 1})
    www.ok("Bind", {"handle": h6, "address": inet("::", 443)})
    www.refused("Bind", {"handle": www.socket("AF_INET"),
                         "address": inet("0.0.0.0", 8080)}, "web")
    www.refused("Socket", {"family": "AF_INET", "type": "SOCK_DGRAM"},
                "web")
    c = socket.create_connection(("127.0.0.1", 80), timeout=10)
    assert www.run("s, a = fds['web4'].accept(); result = a[0]; "
                   "fds['c'] = s") == "127.0.0.1"
    c.close()
    assert www.run("s = fds['c']; s.settimeout(10); result = len(s.recv(9));"
                   "s.close()") == 0

    # (3) The monitoring user pings, but gets no stream sockets.
    mon = agents(d, 64040)
    h = mon.socket("AF_INET", "SOCK_RAW", proto=1)
    assert ping_through(mon, h, "127.0.0.1", 0x4d4d) == "127.0.0.1"
    mon.socket("AF_INET6", "SOCK_RAW", proto=58)
    mon.refused("Socket", {"family": "AF_INET", "type": "SOCK_STREAM"},
                "monitoring")
    mon.refused("FileNo", {"handle": h}, "monitoring")


def b64(data):
    return base64.b64encode(data).decode()
