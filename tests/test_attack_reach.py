"""Attacks that reach beyond what the caller may do (issue 10).

Each test reproduces one attack from issue 10 against a real sockd and
asserts the safe outcome. The daemon runs as root under a policy; the
attackers are other uids (1500, 1501, 1502, no passwd entries) running
/usr/bin/python3 under `setpriv --reuid=U --regid=U --clear-groups`,
driven line by line over a pipe (see AGENT).
"""
import errno
import json
import os
import shutil
import socket
import stat
import struct

import pytest

from agent import expect_errno, plain_errno, write_policy
from conftest import make_tmpdir
from helpers import connect_refused, expect_invalid, unique
from varlink import b64, unb64, wait_until

PYTHON = "/usr/bin/python3"
SETPRIV = "/usr/bin/setpriv"
DEADLINE = 15.0

SANDBOX = 1500      # the uid of sockd.policy(5)'s "sandbox" example
EVE = 1501
MALLORY = 1502

@pytest.fixture
def scratch():
    """A fresh root-owned 0755 directory outside the daemon's."""
    d = make_tmpdir("sockd-scratch-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def policy_daemon(start_sockd, tmpdir, rules, *args):
    path = os.path.join(tmpdir, "policy.json")
    write_policy(path, rules)
    return start_sockd("--policy", path, *args, tmpdir=tmpdir)


# -- 3. Confused deputy on Unix sockets -------------------------------------

ESCALATE = r"""
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(PATH)
s.sendall(call_message("io.sockd.Attach", {"handle": h}, upgrade=True))
result = [read_reply(s)]
if "error" not in result[0]:
    # Now a raw pipe to whatever the handle is connected to.
    s.sendall(encode({"method": "io.sockd.Socket", "parameters":
                      {"family": "AF_NETLINK", "type": "SOCK_RAW"}}))
    result.append(read_reply(s))
    s.sendall(encode({"method": "io.sockd.List"}))
    result.append(read_reply(s))
s.close()
"""


def test_connect_to_own_control_socket_refused(start_sockd, tmpdir_short,
                                               agents):
    """Issue 10 item 3a: a connect grant that covers sockd's own control
    socket must not give the caller a connection to sockd that sockd
    itself made (uid 0): Connect to it is EACCES. Otherwise Attach turns
    that handle into a varlink pipe speaking to sockd as root."""
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "unix-dir", "users": [EVE], "families": ["AF_UNIX"],
         "types": ["SOCK_STREAM"], "connect": [f"unix:{tmpdir_short}/"]}])
    eve = agents(d, EVE)
    h = eve.socket("AF_UNIX", "SOCK_STREAM")
    res = eve.call("Connect", {"handle": h, "address": {"path": d.path}})
    if "error" not in res:
        # Show the escalation the connection gives.
        got = eve.run(ESCALATE, h=h)
        assert got[0] == {}, f"Attach failed: {got}"
        owners = [(x["handle"], x["family"], x["owner"]) for x in
                  got[2].get("parameters", {}).get("sockets", [])]
        assert "error" in got[1] and "error" in got[2], \
            (f"uid {EVE} spoke to sockd as root through its own control "
             f"socket: Socket AF_NETLINK -> {got[1]}; List -> (handle, "
             f"family, owner) {owners}")
    expect_errno(res, errno.EACCES, "Connect to sockd's control socket")


def unix_rules(scratch, **grants):
    return [{"name": "unix-scratch", "users": [EVE],
             "families": ["AF_UNIX"], "types": ["SOCK_STREAM", "SOCK_DGRAM"],
             **{k: [f"unix:{scratch}/"] for k in grants}}]


def test_unix_connect_and_sendto_use_the_callers_rights(
        start_sockd, tmpdir_short, scratch, agents):
    """Issue 10 item 3b: sockd must judge Unix paths with the caller's
    rights: a socket in a directory the caller cannot search, or a socket
    file it may not write, stays out of reach though the policy grants
    the directory above."""
    private = os.path.join(scratch, "D")
    os.mkdir(private, 0o700)
    stream_path = os.path.join(private, "s.sock")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(stream_path)
    lst.listen(4)
    lst.setblocking(False)
    os.chmod(stream_path, 0o777)
    dgram_path = os.path.join(scratch, "g.sock")
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(dgram_path)
    sink.setblocking(False)
    os.chmod(dgram_path, 0o600)
    try:
        d = policy_daemon(start_sockd, tmpdir_short,
                          unix_rules(scratch, connect=True))
        eve = agents(d, EVE)
        # The reference: uid 1501 on its own gets EACCES for both.
        assert plain_errno(eve, "connect", "AF_UNIX", "SOCK_STREAM",
                           [stream_path]) == errno.EACCES
        assert plain_errno(eve, "sendto", "AF_UNIX", "SOCK_DGRAM",
                           [dgram_path]) == errno.EACCES
        h = eve.socket("AF_UNIX", "SOCK_STREAM")
        expect_errno(eve.call("Connect", {"handle": h,
                                          "address": {"path": stream_path}}),
                     errno.EACCES, "Connect into a 0700 root directory")
        h = eve.socket("AF_UNIX", "SOCK_DGRAM")
        expect_errno(eve.call("SendTo", {"handle": h, "data": b64(b"x"),
                                         "address": {"path": dgram_path}}),
                     errno.EACCES, "SendTo a 0600 root socket")
        with pytest.raises(BlockingIOError):
            sink.recv(16)
    finally:
        lst.close()
        sink.close()


def test_unix_bind_uses_the_callers_rights(start_sockd, tmpdir_short,
                                           scratch, agents):
    """Issue 10 item 3c: Bind in a root-owned 0755 directory, which the
    caller may not write, is EACCES and creates nothing there."""
    rootdir = os.path.join(scratch, "E")
    os.mkdir(rootdir, 0o755)
    path = os.path.join(rootdir, "x.sock")
    d = policy_daemon(start_sockd, tmpdir_short, unix_rules(scratch,
                                                            bind=True))
    eve = agents(d, EVE)
    assert plain_errno(eve, "bind", "AF_UNIX", "SOCK_STREAM",
                       [path]) == errno.EACCES
    h = eve.socket("AF_UNIX", "SOCK_STREAM")
    res = eve.call("Bind", {"handle": h, "address": {"path": path}})
    created = os.path.lexists(path)
    expect_errno(res, errno.EACCES, "Bind in a root 0755 directory")
    assert not created, f"{path} was created"


def test_unix_bind_file_belongs_to_the_caller(start_sockd, tmpdir_short,
                                              scratch, agents):
    """Issue 10 item 3d: the socket file a caller's Bind creates belongs
    to the caller (uid and gid), not to root."""
    own = os.path.join(scratch, "F")
    os.mkdir(own, 0o755)
    os.chown(own, EVE, EVE)
    path = os.path.join(own, "y.sock")
    d = policy_daemon(start_sockd, tmpdir_short, unix_rules(scratch,
                                                            bind=True))
    eve = agents(d, EVE)
    h = eve.socket("AF_UNIX", "SOCK_STREAM")
    eve.ok("Bind", {"handle": h, "address": {"path": path}})
    st = os.lstat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert (st.st_uid, st.st_gid) == (EVE, EVE), \
        f"{path} is owned by {st.st_uid}:{st.st_gid}, not {EVE}:{EVE}"


# -- 4. SO_REUSEPORT port groups --------------------------------------------

def reuseport_daemon(start_sockd, tmpdir):
    return policy_daemon(start_sockd, tmpdir, [
        {"name": "loopback", "users": [EVE, MALLORY],
         "families": ["AF_INET"], "types": ["SOCK_STREAM"],
         "bind": ["127.0.0.1:1024-65535"]}])


def reuse_bind(agent, port):
    """Socket, SO_REUSEPORT, Bind 127.0.0.1:port: (handle, Bind answer)."""
    h = agent.socket("AF_INET", "SOCK_STREAM")
    agent.ok("SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                            "option": "SO_REUSEPORT", "value": 1})
    return h, agent.call("Bind", {"handle": h, "address":
                                  {"host": "127.0.0.1", "port": port}})


def test_reuseport_cannot_join_roots_port(start_sockd, tmpdir_short, agents):
    """Issue 10 item 4: with SO_REUSEPORT a caller must not join root's
    port group (and steal a share of its connections): EADDRINUSE, as
    for a plain process of the caller's uid."""
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    port = lst.getsockname()[1]
    try:
        d = reuseport_daemon(start_sockd, tmpdir_short)
        eve = agents(d, EVE)
        assert plain_errno(eve, "bind", "AF_INET", "SOCK_STREAM",
                           ["127.0.0.1", port], reuseport=True) \
            == errno.EADDRINUSE
        _, res = reuse_bind(eve, port)
        expect_errno(res, errno.EADDRINUSE,
                     f"uid {EVE} joining root's SO_REUSEPORT port {port}")
    finally:
        lst.close()


def test_reuseport_cannot_join_another_callers_port(start_sockd,
                                                    tmpdir_short, agents):
    """Issue 10 item 4: two callers of different uids must not share a
    SO_REUSEPORT group through sockd: the second Bind is EADDRINUSE."""
    d = reuseport_daemon(start_sockd, tmpdir_short)
    eve, mallory = agents(d, EVE), agents(d, MALLORY)
    h, res = reuse_bind(eve, 0)
    assert res == {"ok": {}}, res
    eve.ok("Listen", {"handle": h})
    port = eve.ok("GetSockName", {"handle": h})["address"]["port"]
    _, res = reuse_bind(mallory, port)
    expect_errno(res, errno.EADDRINUSE,
                 f"uid {MALLORY} joining uid {EVE}'s port {port}")


def tcp_listen_uid(port):
    """The uid column of the 127.0.0.1:port listener in /proc/net/tcp."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.read().splitlines()[1:]:
            cols = line.split()
            if cols[1] == want and cols[3] == "0A":
                return int(cols[7])
    raise AssertionError(f"no listener {want} in /proc/net/tcp")


def test_socket_belongs_to_the_caller_in_the_kernel(start_sockd,
                                                    tmpdir_short, agents):
    """Issue 10 item 4: the kernel's owner of a socket sockd made for a
    caller (what SO_REUSEPORT groups compare) is the caller's uid."""
    d = reuseport_daemon(start_sockd, tmpdir_short)
    eve = agents(d, EVE)
    h = eve.socket("AF_INET", "SOCK_STREAM")
    eve.ok("Bind", {"handle": h, "address": {"host": "127.0.0.1",
                                             "port": 0}})
    eve.ok("Listen", {"handle": h})
    port = eve.ok("GetSockName", {"handle": h})["address"]["port"]
    uid = tcp_listen_uid(port)
    assert uid == EVE, f"the kernel says uid {uid} owns uid {EVE}'s socket"


# -- 5. Listen without Bind ---------------------------------------------------

def test_listen_without_bind_refused(start_sockd, tmpdir_short, agents):
    """Issue 10 item 5: a caller without a bind grant (sockd.policy(5)'s
    "sandbox" example) must not listen by skipping Bind and letting the
    kernel bind 0.0.0.0 and a random port: Listen is EACCES."""
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "sandbox", "users": [SANDBOX], "families": ["AF_INET"],
         "types": ["SOCK_STREAM"], "connect": ["127.0.0.1:5432"],
         "fileno": "detach"}])
    sb = agents(d, SANDBOX)
    h = sb.socket("AF_INET", "SOCK_STREAM")
    expect_errno(sb.call("Bind", {"handle": h, "address":
                                  {"host": "0.0.0.0", "port": 0}}),
                 errno.EACCES, "Bind 0.0.0.0:0")
    res = sb.call("Listen", {"handle": h})
    name = sb.ok("GetSockName", {"handle": h})["address"]
    assert name["port"] == 0, f"listening on {name} after Listen {res}"
    expect_errno(res, errno.EACCES, "Listen on an unbound socket")


def test_listen_needs_a_grant_for_its_port(start_sockd, tmpdir_short,
                                           agents):
    """A sibling of item 5: a grant of one port ("0.0.0.0:8080", as
    authbind would give) must not let a caller listen on another. Bind
    with port 0 (a client's source address: any pattern of the address
    grants it) and then Listen is asked about the port the kernel chose;
    an unbound Listen, whose port the kernel will choose, needs a pattern
    with every port it may choose."""
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "one-port", "users": [EVE], "families": ["AF_INET"],
         "types": ["SOCK_STREAM"], "bind": ["0.0.0.0:8080"]},
        {"name": "any-port", "users": [MALLORY], "families": ["AF_INET"],
         "types": ["SOCK_STREAM"], "bind": ["0.0.0.0"]}])
    eve, mallory = agents(d, EVE), agents(d, MALLORY)
    h = eve.socket("AF_INET", "SOCK_STREAM")
    eve.ok("Bind", {"handle": h, "address": {"host": "0.0.0.0", "port": 0}})
    port = eve.ok("GetSockName", {"handle": h})["address"]["port"]
    assert port != 0
    res = eve.call("Listen", {"handle": h})
    expect_errno(res, errno.EACCES, f"Listen on the chosen port {port}")
    assert f":{port}:" in res["parameters"]["message"], res
    assert connect_refused(port), f"port {port} accepts connections"
    h = eve.socket("AF_INET", "SOCK_STREAM")
    expect_errno(eve.call("Listen", {"handle": h}), errno.EACCES,
                 "Listen unbound with a one-port grant")
    assert eve.ok("GetSockName", {"handle": h})["address"]["port"] == 0
    # A grant of every port grants both.
    for bind_first in (True, False):
        h = mallory.socket("AF_INET", "SOCK_STREAM")
        if bind_first:
            mallory.ok("Bind", {"handle": h, "address": {"host": "0.0.0.0",
                                                        "port": 0}})
        mallory.ok("Listen", {"handle": h})
        port = mallory.ok("GetSockName", {"handle": h})["address"]["port"]
        assert port != 0 and not connect_refused(port)


def test_unix_listener_peers_see_the_caller(start_sockd, tmpdir_short,
                                            agents):
    """A sibling of item 3: a client connecting to a Unix listener that a
    caller made through sockd must see the caller's credentials
    (SO_PEERCRED is taken at listen()), not root's: else any caller with a
    bind grant could pass its server off as root to clients that check."""
    name = unique("lst")
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "abstract", "users": [EVE], "families": ["AF_UNIX"],
         "types": ["SOCK_STREAM"], "bind": [f"unix:@{name}"]}])
    eve = agents(d, EVE)
    h = eve.socket("AF_UNIX", "SOCK_STREAM")
    eve.ok("Bind", {"handle": h, "address": {"path": "@" + name}})
    eve.ok("Listen", {"handle": h})
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        c.connect("\0" + name)
        pid, uid, gid = struct.unpack(
            "3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                               struct.calcsize("3i")))
    finally:
        c.close()
    assert (uid, gid) == (EVE, EVE), \
        f"the listener of uid {EVE} shows uid {uid} gid {gid} to its peers"


# -- 9. Log injection ---------------------------------------------------------

FORGED_CONNECT = ('sockd: granted Connect /run/docker.sock for uid 0 pid 1 '
                  'by rule "admin"')
FORGED_RESOLVE = "sockd: granted resolve forged"


@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "v"])
def test_log_injection(start_sockd, tmpdir_short, agents, verbose):
    """Issue 10 item 9: a newline in a refused path or host name must not
    forge a log line: it is logged escaped ("\\n")."""
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "unix-only", "users": [EVE], "families": ["AF_UNIX"],
         "types": ["SOCK_STREAM"],
         "connect": ["unix:/nonexistent-sockd-test/"],
         "resolve": ["*.example.org"]}], *(["-v"] if verbose else []))
    eve = agents(d, EVE)
    h = eve.socket("AF_UNIX", "SOCK_STREAM")
    expect_errno(eve.call("Connect", {"handle": h, "address":
                                      {"path": "/tmp/x\n" + FORGED_CONNECT}}),
                 errno.EACCES, "Connect to a path with a newline")
    expect_errno(eve.call("GetAddrInfo", {"host": "evil\n" + FORGED_RESOLVE,
                                          "port": 80}),
                 errno.EACCES, "GetAddrInfo of a host with a newline")
    wait_until(lambda: "docker.sock" in d.stderr() and
               "resolve forged" in d.stderr(), what="the refusals logged")
    lines = d.stderr().splitlines()
    forged = [ln for ln in lines if ln.startswith("sockd: granted") and
              (not verbose or f"for uid {EVE} " not in ln or
               "docker" in ln or "forged" in ln)]
    assert not forged, f"forged log lines: {forged}"
    for want in ["/tmp/x\\n" + FORGED_CONNECT.split(" by rule")[0],
                 "evil\\n" + FORGED_RESOLVE]:
        assert [ln for ln in lines if f"uid {EVE} " in ln and want in ln], \
            f"no refusal logged with {want!r}:\n{d.stderr()}"


def test_refusals_do_not_flood_the_log(start_sockd, tmpdir_short, agents):
    """A sibling of item 9: a client that keeps being refused must not
    flood sockd's log (nor stall sockd on a slow journal): at most 10
    refusals a second are logged for a uid, and the next line logged says
    how many were not."""
    d = policy_daemon(start_sockd, tmpdir_short, [
        {"name": "tcp-only", "users": [EVE], "families": ["AF_INET"],
         "types": ["SOCK_STREAM"]}])
    eve = agents(d, EVE)
    for _ in range(200):
        expect_errno(eve.call("Socket", {"family": "AF_UNIX",
                                         "type": "SOCK_STREAM"}),
                     errno.EACCES, "Socket AF_UNIX")

    def refusals():
        return [ln for ln in d.stderr().splitlines()
                if f"uid {EVE} pid" in ln and "refused" in ln]
    logged = len(refusals())
    # 200 refusals span at most a few seconds: 10 lines each at most.
    assert 1 <= logged <= 40, \
        f"{logged} of 200 refusals of uid {EVE} logged:\n{d.stderr()}"
    # Past the second, the next one is logged with the count skipped.
    wait_until(lambda: (eve.call("Socket", {"family": "AF_UNIX",
                                            "type": "SOCK_STREAM"}),
                        "were not logged" in d.stderr())[1],
               timeout=5, interval=0.3, what="the count of unlogged refusals")
    skipped = [ln for ln in d.stderr().splitlines()
               if f"uid {EVE}: " in ln and "refusals were not logged" in ln]
    assert skipped, d.stderr()


# -- 10. Non-UTF-8 Unix names -------------------------------------------------

def raw_call(c, method, params):
    """A call's reply: it must be strict UTF-8 JSON. Returns the result."""
    c.send_call("io.sockd." + method, params)
    raw, fds, _ = c.recv_raw()
    assert not fds
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssertionError(f"{method}: reply is not UTF-8 ({e}): "
                             f"{raw[:300]!r}") from None
    return c.result(json.loads(text))


def check_b64_path(address, want):
    """address carries the name want (bytes) as path_base64 only."""
    assert "path" not in address, address
    assert address.get("family") == "AF_UNIX", address
    assert unb64(address["path_base64"]) == want, address


def recv_py(sock, timeout=5.0):
    sock.settimeout(timeout)
    return sock.recv(100)


def test_non_utf8_abstract_datagram_name(sockd):
    """Issue 10 item 10a: a sender with a non-UTF-8 abstract name must not
    make RecvFrom's reply invalid UTF-8; its name comes back as
    path_base64 and SendTo reaches it by that name."""
    u = unique("v").encode()
    c = sockd.client()
    h = c.call("io.sockd.Socket", {"family": "AF_UNIX",
                                   "type": "SOCK_DGRAM"})["handle"]
    c.call("io.sockd.Bind", {"handle": h,
                             "address": {"path": "@victim-" + u.decode()}})
    evil = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        evil.bind(b"\0evil\xff\xfe" + u)
        evil.sendto(b"hi", b"\0victim-" + u)
        got = raw_call(c, "RecvFrom", {"handle": h, "bufsize": 100})
        assert unb64(got["data"]) == b"hi"
        check_b64_path(got["address"], b"@evil\xff\xfe" + u)
        c.call("io.sockd.SendTo", {"handle": h, "data": b64(b"back"),
                                   "address": {"path_base64":
                                               got["address"]
                                               ["path_base64"]}})
        assert recv_py(evil) == b"back"
    finally:
        evil.close()


def test_non_utf8_filesystem_datagram_name(sockd, scratch):
    """Issue 10 item 10b: the same for a file-system path that is not
    UTF-8."""
    c = sockd.client()
    h = c.call("io.sockd.Socket", {"family": "AF_UNIX",
                                   "type": "SOCK_DGRAM"})["handle"]
    c.call("io.sockd.Bind", {"handle": h, "address":
                             {"path": os.path.join(scratch, "v.sock")}})
    evil_path = os.fsencode(scratch) + b"/\xff\xfe.sock"
    evil = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        evil.bind(evil_path)
        evil.sendto(b"hi", os.fsencode(os.path.join(scratch, "v.sock")))
        got = raw_call(c, "RecvFrom", {"handle": h, "bufsize": 100})
        assert unb64(got["data"]) == b"hi"
        check_b64_path(got["address"], evil_path)
        c.call("io.sockd.SendTo", {"handle": h, "data": b64(b"back"),
                                   "address": {"path_base64":
                                               b64(evil_path)}})
        assert recv_py(evil) == b"back"
    finally:
        evil.close()


def test_non_utf8_stream_peer_name(sockd):
    """Issue 10 item 10c: a connecting client with a non-UTF-8 abstract
    name must not make the replies of Accept, GetPeerName and List invalid
    UTF-8: its name is path_base64 in each."""
    u = unique("l").encode()
    name = b"@evil\xff\xfe2" + u
    c = sockd.client()
    lst = c.call("io.sockd.Socket", {"family": "AF_UNIX",
                                     "type": "SOCK_STREAM"})["handle"]
    c.call("io.sockd.Bind", {"handle": lst,
                             "address": {"path": "@lst-" + u.decode()}})
    c.call("io.sockd.Listen", {"handle": lst})
    evil = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        evil.settimeout(10)
        evil.bind(b"\0" + name[1:])
        evil.connect(b"\0lst-" + u)
        got = raw_call(c, "Accept", {"handle": lst})
        check_b64_path(got["address"], name)
        h = got["handle"]
        check_b64_path(raw_call(c, "GetPeerName", {"handle": h})["address"],
                       name)
        entries = {s["handle"]: s for s in raw_call(c, "List", {})["sockets"]}
        check_b64_path(entries[h]["peer"], name)
        assert entries[lst]["local"]["path"] == "@lst-" + u.decode()
    finally:
        evil.close()


def test_path_and_path_base64(sockd):
    """Issue 10 item 10d: path_base64 stands in for path; both at once, or
    base64 that does not decode, is InvalidParameter naming the address
    parameter (as every bad address is)."""
    u = unique("pb")
    c = sockd.client()
    h = c.call("io.sockd.Socket", {"family": "AF_UNIX",
                                   "type": "SOCK_DGRAM"})["handle"]
    both = {"path": "@a-" + u, "path_base64": b64(("@b-" + u).encode())}
    for method, params in [
            ("Bind", {"handle": h, "address": both}),
            ("SendTo", {"handle": h, "data": b64(b"x"), "address": both}),
            ("Bind", {"handle": h, "address": {"path_base64": "@@@="}})]:
        expect_invalid("address", c.call, "io.sockd." + method, params)
    c.call("io.sockd.Bind", {"handle": h, "address": {
        "path_base64": b64(("@ok-" + u).encode())}})
    assert c.call("io.sockd.GetSockName", {"handle": h})["address"] \
        == {"family": "AF_UNIX", "path": "@ok-" + u}
