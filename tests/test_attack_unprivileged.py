"""Attacks on reach when sockd runs as its own non-root user.

As root, sockd makes Unix-path Bind, Connect and SendTo as the caller and
the kernel judges them. Run as its own user (as under sockd.service), it
cannot take on the caller's identity, so it walks a Unix path itself with
the caller's rights (mode bits, owner and group, the caller's groups,
following symbolic links itself, refusing files with a POSIX ACL unless
the caller owns them) and connects through the file it found. Every socket
it makes belongs to its own uid in the kernel, so it keeps callers of
different uids out of each other's SO_REUSEPORT groups itself. And it
never connects a handle to its own control socket.

Here sockd runs as uid 65534 (nobody) under `setpriv --reuid=65534
--regid=65534 --clear-groups`, with a policy that grants uids 1501 and
1502 Unix paths under a scratch directory (root's, 0755, apart from the
daemon's) and loopback TCP/UDP. The callers are /usr/bin/python3 under
setpriv as those uids, driven line by line over a pipe. Each test sets up
something uid 65534 could reach and the caller could not, and checks that
the caller cannot reach it through sockd either (and, as the reference,
cannot reach it on its own).
"""
import errno
import os
import shutil
import socket
import struct
import time

import pytest

from agent import expect_errno, plain_errno, write_policy
from conftest import make_tmpdir
from varlink import b64, unb64

PYTHON = "/usr/bin/python3"
SETPRIV = "/usr/bin/setpriv"

NOBODY = 65534      # sockd's own uid (and gid) here
EVE = 1501          # the caller
MALLORY = 1502      # a second caller with the same grant
SUPPLEMENTARY = 2000    # a supplementary group of EVE's, where it has one

@pytest.fixture
def scratch():
    """A fresh root-owned 0755 directory for socket files, apart from the
    daemon's."""
    d = make_tmpdir("sockd-scratch-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def held():
    """The test's own sockets, closed at the end."""
    socks = []
    yield socks
    for s in socks:
        s.close()


@pytest.fixture
def nobody_sockd(start_sockd, tmpdir_short, scratch):
    """sockd running as uid 65534 under a policy that grants uids 1501 and
    1502 Unix paths under scratch (and, to connect, the daemon's own
    directory) and loopback TCP and UDP."""
    os.chown(tmpdir_short, NOBODY, NOBODY)
    policy = os.path.join(tmpdir_short, "policy.json")
    write_policy(policy, [
        {"name": "callers", "users": [EVE, MALLORY],
         "families": ["AF_UNIX", "AF_INET", "AF_INET6"],
         "types": ["SOCK_STREAM", "SOCK_DGRAM"],
         "connect": [f"unix:{scratch}/", f"unix:{tmpdir_short}/",
                     "127.0.0.1:1-65535"],
         "bind": [f"unix:{scratch}/", "unix:@unpriv-",
                  "127.0.0.1:1024-65535", "0.0.0.0:1024-65535",
                  "[::]:1024-65535"]}])
    d = start_sockd("--policy", policy,
                    prefix=[SETPRIV, f"--reuid={NOBODY}",
                            f"--regid={NOBODY}", "--clear-groups"],
                    tmpdir=tmpdir_short)
    with open(f"/proc/{d.proc.pid}/status") as f:
        uids = [ln.split()[1:] for ln in f if ln.startswith("Uid:")][0]
    assert uids == [str(NOBODY)] * 4, f"sockd runs as uids {uids}"
    assert os.stat(d.path).st_uid == NOBODY
    return d


def unix_socket(held, path, type_, mode, owner=None):
    """A Unix socket of root's at path: listening if a stream, mode mode,
    and owned by owner (uid, gid) when given."""
    s = socket.socket(socket.AF_UNIX, type_)
    held.append(s)
    s.bind(path)
    if type_ == socket.SOCK_STREAM:
        s.listen(8)
    s.setblocking(False)
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, *owner)
    return s


def mkdir(path, mode, owner=None):
    os.mkdir(path)
    os.chmod(path, mode)    # past the umask, and for the sticky bit
    if owner is not None:
        os.chown(path, *owner)
    return path


def symlink(target, path, owner):
    os.symlink(target, path)
    os.lchown(path, *owner)
    return path


def nothing_waiting(sock):
    """sock (non-blocking) has no connection or datagram waiting."""
    try:
        if sock.type == socket.SOCK_STREAM:
            conn, _ = sock.accept()
            conn.close()
        else:
            sock.recv(100)
    except BlockingIOError:
        return True
    return False


def accept_py(lst, timeout=10):
    lst.settimeout(timeout)
    try:
        conn, _ = lst.accept()
    finally:
        lst.setblocking(False)
    conn.settimeout(timeout)
    return conn


def recv_py(sock, timeout=10):
    sock.settimeout(timeout)
    try:
        return sock.recv(100)
    finally:
        sock.setblocking(False)


def connect_unix(agent, path):
    """Socket and Connect path for agent: (handle, Connect answer)."""
    h = agent.socket("AF_UNIX", "SOCK_STREAM")
    return h, agent.call("Connect", {"handle": h, "address": {"path": path}})


def sendto_unix(agent, path, data=b"x"):
    h = agent.socket("AF_UNIX", "SOCK_DGRAM")
    return agent.call("SendTo", {"handle": h, "data": b64(data),
                                 "address": {"path": path}})


def refused_both_ways(eve, stream_path, lst, dgram_path, sink, what):
    """Connect to the listener lst at stream_path and SendTo the datagram
    socket sink at dgram_path are EACCES for eve through sockd, as for a
    plain process of its uid, and nothing reaches either socket."""
    assert plain_errno(eve, "connect", "AF_UNIX", "SOCK_STREAM",
                       [stream_path]) == errno.EACCES
    assert plain_errno(eve, "sendto", "AF_UNIX", "SOCK_DGRAM",
                       [dgram_path]) == errno.EACCES
    _, res = connect_unix(eve, stream_path)
    expect_errno(res, errno.EACCES, f"uid {eve.uid}: Connect, {what}")
    expect_errno(sendto_unix(eve, dgram_path), errno.EACCES,
                 f"uid {eve.uid}: SendTo, {what}")
    assert nothing_waiting(lst), "a connection reached the listener"
    assert nothing_waiting(sink), "a datagram reached the socket"


# -- Directories and socket files the caller may not use ----------------------

def test_private_directory_of_sockd_uid(nobody_sockd, scratch, held,
                                        agents):
    """A 0700 directory of uid 65534 holding sockets open to all: sockd
    (65534) could search it, uid 1501 cannot. Connect and SendTo into it
    as 1501 are EACCES, as for a plain process of 1501, and nothing
    reaches the sockets."""
    private = mkdir(os.path.join(scratch, "D"), 0o700, (NOBODY, NOBODY))
    stream_path = os.path.join(private, "s.sock")
    lst = unix_socket(held, stream_path, socket.SOCK_STREAM, 0o777,
                      (NOBODY, NOBODY))
    dgram_path = os.path.join(private, "g.sock")
    sink = unix_socket(held, dgram_path, socket.SOCK_DGRAM, 0o777,
                       (NOBODY, NOBODY))
    refused_both_ways(agents(nobody_sockd, EVE), stream_path, lst,
                      dgram_path, sink, f"uid {NOBODY}'s 0700 directory")


def test_socket_file_of_sockd_uid_mode_0600(nobody_sockd, scratch, held,
                                            agents):
    """Socket files of uid 65534, mode 0600, in a 0755 directory: sockd
    (their owner) may write them, uid 1501 may not. Connect to the stream
    one and SendTo the datagram one as 1501 are EACCES."""
    stream_path = os.path.join(scratch, "s600.sock")
    lst = unix_socket(held, stream_path, socket.SOCK_STREAM, 0o600,
                      (NOBODY, NOBODY))
    dgram_path = os.path.join(scratch, "g600.sock")
    sink = unix_socket(held, dgram_path, socket.SOCK_DGRAM, 0o600,
                       (NOBODY, NOBODY))
    refused_both_ways(agents(nobody_sockd, EVE), stream_path, lst,
                      dgram_path, sink, f"uid {NOBODY}'s 0600 socket")


def test_group_bits_hold_for_the_callers_groups(nobody_sockd, scratch,
                                                held, agents):
    """Sockets of group 1501 (the caller's primary group) and of group 2000
    (a supplementary group of the caller's), mode 0707: the kernel judges
    a member of the file's group by the group bits (none here), not by the
    bits for others, which sockd (65534) gets. Connect and SendTo as 1501
    are EACCES; 1502, in neither group, may use them."""
    sockets = []
    for gid in [EVE, SUPPLEMENTARY]:
        stream_path = os.path.join(scratch, f"grp{gid}.sock")
        dgram_path = os.path.join(scratch, f"grp{gid}-g.sock")
        sockets.append((gid, stream_path, dgram_path,
                        unix_socket(held, stream_path, socket.SOCK_STREAM,
                                    0o707, (0, gid)),
                        unix_socket(held, dgram_path, socket.SOCK_DGRAM,
                                    0o707, (0, gid))))
    eve = agents(nobody_sockd, EVE, groups=[SUPPLEMENTARY])
    mallory = agents(nobody_sockd, MALLORY)
    for gid, stream_path, dgram_path, lst, sink in sockets:
        assert plain_errno(eve, "connect", "AF_UNIX", "SOCK_STREAM",
                           [stream_path]) == errno.EACCES
        _, res = connect_unix(eve, stream_path)
        expect_errno(res, errno.EACCES,
                     f"uid {EVE}: Connect to a 0707 socket of its group "
                     f"{gid}")
        expect_errno(sendto_unix(eve, dgram_path), errno.EACCES,
                     f"uid {EVE}: SendTo a 0707 socket of its group {gid}")
        assert nothing_waiting(lst), "a connection reached the listener"
        assert nothing_waiting(sink), "a datagram reached the socket"
        _, res = connect_unix(mallory, stream_path)
        assert res == {"ok": {}}, f"uid {MALLORY}: {stream_path}: {res}"
        accept_py(lst).close()


# -- Symbolic links -----------------------------------------------------------

def test_symlinks_followed_with_the_callers_rights(nobody_sockd, scratch,
                                                   held, agents):
    """Links in a directory of uid 1501's (which the policy grants): one to
    a socket in uid 65534's 0700 directory, and one to that directory,
    lead nowhere: EACCES, as for 1501 itself. Links to a socket 1501 may
    use (absolute, relative, a link to a link) connect, and GetPeerName
    and List name the socket's real path, not the file sockd connected
    through."""
    private = mkdir(os.path.join(scratch, "D"), 0o700, (NOBODY, NOBODY))
    secret = os.path.join(private, "s.sock")
    secret_lst = unix_socket(held, secret, socket.SOCK_STREAM, 0o777,
                             (NOBODY, NOBODY))
    public = mkdir(os.path.join(scratch, "P"), 0o755)
    real = os.path.join(public, "s.sock")
    lst = unix_socket(held, real, socket.SOCK_STREAM, 0o777)
    links = mkdir(os.path.join(scratch, "L"), 0o755, (EVE, EVE))
    bad = symlink(secret, os.path.join(links, "bad"), (EVE, EVE))
    baddir = symlink(private, os.path.join(links, "baddir"), (EVE, EVE))
    good = symlink(real, os.path.join(links, "good"), (EVE, EVE))
    rel = symlink("../P/s.sock", os.path.join(links, "rel"), (EVE, EVE))
    chain = symlink("good", os.path.join(links, "chain"), (EVE, EVE))
    eve = agents(nobody_sockd, EVE)
    for path in [bad, os.path.join(baddir, "s.sock")]:
        assert plain_errno(eve, "connect", "AF_UNIX", "SOCK_STREAM",
                           [path]) == errno.EACCES, path
        _, res = connect_unix(eve, path)
        expect_errno(res, errno.EACCES,
                     f"uid {EVE}: Connect {path} (into uid {NOBODY}'s "
                     f"0700 directory)")
    assert nothing_waiting(secret_lst), "a connection reached the secret"
    for path in [good, rel, chain]:
        assert plain_errno(eve, "connect", "AF_UNIX", "SOCK_STREAM",
                           [path]) == 0, path
        accept_py(lst).close()      # the reference's connection
        h, res = connect_unix(eve, path)
        assert res == {"ok": {}}, f"Connect {path}: {res}"
        peer = accept_py(lst)
        try:
            eve.ok("SendAll", {"handle": h, "data": b64(b"via link")})
            assert peer.recv(100) == b"via link"
        finally:
            peer.close()
        name = eve.ok("GetPeerName", {"handle": h})["address"]
        assert name == {"family": "AF_UNIX", "path": real}, \
            f"GetPeerName after Connect {path}: {name}"
        listed = {s["handle"]: s for s in eve.ok("List")["sockets"]}
        assert listed[h]["peer"] == name, listed[h]


# -- What the caller may use --------------------------------------------------

def test_socket_the_caller_may_use(nobody_sockd, scratch, held, agents):
    """Sockets 1501 may use (0777 and 0666 in 0755 directories): Connect,
    Send both ways, and SendTo (and a connected datagram Send) work, and
    the peer receives the data."""
    public = mkdir(os.path.join(scratch, "P"), 0o755)
    stream_path = os.path.join(public, "s.sock")
    lst = unix_socket(held, stream_path, socket.SOCK_STREAM, 0o777)
    dgram_path = os.path.join(scratch, "g.sock")
    sink = unix_socket(held, dgram_path, socket.SOCK_DGRAM, 0o666)
    eve = agents(nobody_sockd, EVE)
    h, res = connect_unix(eve, stream_path)
    assert res == {"ok": {}}, res
    peer = accept_py(lst)
    try:
        eve.ok("SendAll", {"handle": h, "data": b64(b"hello")})
        assert peer.recv(100) == b"hello"
        peer.sendall(b"back")
        got = eve.ok("Recv", {"handle": h, "bufsize": 100})
        assert unb64(got["data"]) == b"back"
    finally:
        peer.close()
    assert eve.ok("GetPeerName", {"handle": h})["address"] == \
        {"family": "AF_UNIX", "path": stream_path}
    assert sendto_unix(eve, dgram_path, b"datagram") == {"ok": {"sent": 8}}
    assert recv_py(sink) == b"datagram"
    g = eve.socket("AF_UNIX", "SOCK_DGRAM")
    eve.ok("Connect", {"handle": g, "address": {"path": dgram_path}})
    eve.ok("Send", {"handle": g, "data": b64(b"connected")})
    assert recv_py(sink) == b"connected"
    assert eve.ok("GetPeerName", {"handle": g})["address"] == \
        {"family": "AF_UNIX", "path": dgram_path}


# -- Bind ---------------------------------------------------------------------

def test_bind_with_the_callers_rights(nobody_sockd, scratch, held, agents):
    """Bind into a 0755 directory of uid 65534 (sockd may write it, 1501
    may not), directly or through 1501's link to it, is EACCES and
    creates nothing. Without root, sockd binds no path for another uid at
    all, even where both could write (the file would be sockd's, and the
    directory checked could change before the bind): abstract names are
    the way, and they work."""
    theirs = mkdir(os.path.join(scratch, "N"), 0o755, (NOBODY, NOBODY))
    links = mkdir(os.path.join(scratch, "L"), 0o755, (EVE, EVE))
    link = symlink(theirs, os.path.join(links, "n"), (EVE, EVE))
    sticky = mkdir(os.path.join(scratch, "T"), 0o1777)
    eve = agents(nobody_sockd, EVE)
    for path in [os.path.join(theirs, "x.sock"),
                 os.path.join(link, "y.sock")]:
        assert plain_errno(eve, "bind", "AF_UNIX", "SOCK_STREAM",
                           [path]) == errno.EACCES, path
        h = eve.socket("AF_UNIX", "SOCK_STREAM")
        res = eve.call("Bind", {"handle": h, "address": {"path": path}})
        created = os.listdir(theirs)
        expect_errno(res, errno.EACCES,
                     f"uid {EVE}: Bind {path} (uid {NOBODY}'s 0755 "
                     f"directory)")
        assert created == [], f"{created} created in {theirs}"
    path = os.path.join(sticky, "z.sock")
    h = eve.socket("AF_UNIX", "SOCK_STREAM")
    res = eve.call("Bind", {"handle": h, "address": {"path": path}})
    expect_errno(res, errno.EACCES, f"uid {EVE}: Bind {path} (1777)")
    assert "abstract" in res["parameters"]["message"], res
    assert not os.path.lexists(path), f"{path} created"
    name = f"@unpriv-{os.getpid()}-{time.monotonic_ns()}"
    assert eve.call("Bind", {"handle": h, "address": {"path": name}}) == \
        {"ok": {}}
    eve.ok("Listen", {"handle": h})
    assert eve.ok("GetSockName", {"handle": h})["address"] == \
        {"family": "AF_UNIX", "path": name}


# -- SO_REUSEPORT -------------------------------------------------------------

def reuse_bind(agent, type_, port):
    """Socket, SO_REUSEPORT, Bind 127.0.0.1:port: (handle, Bind answer)."""
    h = agent.socket("AF_INET", type_)
    agent.ok("SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                            "option": "SO_REUSEPORT", "value": 1})
    return h, agent.call("Bind", {"handle": h, "address":
                                  {"host": "127.0.0.1", "port": port}})


@pytest.mark.parametrize("type_", ["SOCK_STREAM", "SOCK_DGRAM"])
def test_reuseport_keeps_uids_apart(nobody_sockd, agents, type_):
    """All of sockd's sockets belong to uid 65534 in the kernel, which
    would let them share a SO_REUSEPORT port whoever asked for them: uid
    1502 binding uid 1501's port with SO_REUSEPORT (to take a share of its
    connections or datagrams) is EADDRINUSE, as for a plain process of
    1502; another socket of 1501's may join."""
    eve, mallory = agents(nobody_sockd, EVE), agents(nobody_sockd, MALLORY)
    h, res = reuse_bind(eve, type_, 0)
    assert res == {"ok": {}}, res
    if type_ == "SOCK_STREAM":
        eve.ok("Listen", {"handle": h})
    port = eve.ok("GetSockName", {"handle": h})["address"]["port"]
    assert plain_errno(mallory, "bind", "AF_INET", type_,
                       ["127.0.0.1", port], reuseport=True) \
        == errno.EADDRINUSE
    _, res = reuse_bind(mallory, type_, port)
    expect_errno(res, errno.EADDRINUSE,
                 f"uid {MALLORY} joining uid {EVE}'s SO_REUSEPORT "
                 f"{type_} port {port}")
    h2, res = reuse_bind(eve, type_, port)
    assert res == {"ok": {}}, \
        f"uid {EVE}'s second socket on its own port {port}: {res}"
    if type_ == "SOCK_STREAM":
        eve.ok("Listen", {"handle": h2})


def test_reuseport_across_ipv4_and_ipv6(nobody_sockd, agents):
    """A dual-stack [::] socket holds the port for IPv4 too: uid 1502
    binding 0.0.0.0 on the port of uid 1501's [::] SO_REUSEPORT listener
    would take its IPv4 connections (the kernel prefers the IPv4 socket).
    EADDRINUSE, as for a plain process of 1502."""
    eve, mallory = agents(nobody_sockd, EVE), agents(nobody_sockd, MALLORY)
    h = eve.socket("AF_INET6", "SOCK_STREAM")
    for opt, val in (("IPV6_V6ONLY", 0), ("SO_REUSEPORT", 1)):
        level = "IPPROTO_IPV6" if opt.startswith("IPV6") else "SOL_SOCKET"
        eve.ok("SetSockOpt", {"handle": h, "level": level, "option": opt,
                              "value": val})
    eve.ok("Bind", {"handle": h, "address": {"host": "::", "port": 0}})
    eve.ok("Listen", {"handle": h})
    port = eve.ok("GetSockName", {"handle": h})["address"]["port"]
    assert plain_errno(mallory, "bind", "AF_INET", "SOCK_STREAM",
                       ["0.0.0.0", port], reuseport=True) \
        == errno.EADDRINUSE
    m = mallory.socket("AF_INET", "SOCK_STREAM")
    mallory.ok("SetSockOpt", {"handle": m, "level": "SOL_SOCKET",
                              "option": "SO_REUSEPORT", "value": 1})
    res = mallory.call("Bind", {"handle": m, "address":
                                {"host": "0.0.0.0", "port": port}})
    expect_errno(res, errno.EADDRINUSE,
                 f"uid {MALLORY} binding 0.0.0.0:{port} beside uid {EVE}'s "
                 f"dual-stack [::]:{port}")


# -- sockd's own control socket -----------------------------------------------

def test_own_control_socket_refused(nobody_sockd, scratch, agents):
    """A connect grant that covers sockd's own control socket, by its path,
    a hard link or a symbolic link to it (all of which 1501 may reach: the
    socket is 0666 in 0755 directories), does not let a handle connect to
    it: EACCES, since through it 1501 would speak to sockd as uid 65534,
    sockd's own uid, which may do everything."""
    d = nobody_sockd
    hard = os.path.join(scratch, "ctl.sock")
    os.link(d.path, hard)
    links = mkdir(os.path.join(scratch, "L"), 0o755, (EVE, EVE))
    soft = symlink(d.path, os.path.join(links, "ctl"), (EVE, EVE))
    eve = agents(d, EVE)
    for path in [d.path, hard, soft]:
        assert plain_errno(eve, "connect", "AF_UNIX", "SOCK_STREAM",
                           [path]) == 0, path
        _, res = connect_unix(eve, path)
        expect_errno(res, errno.EACCES,
                     f"uid {EVE}: Connect {path} (sockd's control socket)")
        expect_errno(sendto_unix(eve, path), errno.EACCES,
                     f"uid {EVE}: SendTo {path} (sockd's control socket)")


# -- POSIX ACLs ---------------------------------------------------------------

ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = \
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ACL_UNDEFINED_ID = 0xFFFFFFFF


def set_acl(path, *named_users, user=7, group=7, mask=7, other=7):
    """Give path an access ACL in the kernel's xattr form (version 2, then
    (tag, perm, id) entries in tag order): user::, user:UID: for each
    (uid, perm) of named_users, group::, mask::, other::."""
    entries = [(ACL_USER_OBJ, user, ACL_UNDEFINED_ID)]
    entries += [(ACL_USER, perm, uid) for uid, perm in sorted(named_users)]
    entries += [(ACL_GROUP_OBJ, group, ACL_UNDEFINED_ID),
                (ACL_MASK, mask, ACL_UNDEFINED_ID),
                (ACL_OTHER, other, ACL_UNDEFINED_ID)]
    data = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e)
                                           for e in entries)
    try:
        os.setxattr(path, "system.posix_acl_access", data)
    except OSError as e:
        if e.errno == errno.EOPNOTSUPP:
            pytest.skip(f"no POSIX ACLs on the file system of {path}")
        raise


def test_posix_acls(nobody_sockd, scratch, held, agents):
    """sockd does not evaluate ACLs; it refuses a file with one unless the
    caller owns it. A 0777 socket whose ACL says user:1501:---, and a
    socket 0777 in a directory whose ACL says user:1501:--- (sockd itself
    may use both), are EACCES for 1501, as for 1501 itself. 1501's own
    socket with an ACL that grants user 1502 connects for 1501, its owner,
    and is refused for 1502 (which the kernel would let in)."""
    denied = os.path.join(scratch, "acl.sock")
    lst = unix_socket(held, denied, socket.SOCK_STREAM, 0o777)
    set_acl(denied, (EVE, 0))
    aclsink_path = os.path.join(scratch, "acl-g.sock")
    sink = unix_socket(held, aclsink_path, socket.SOCK_DGRAM, 0o777)
    set_acl(aclsink_path, (EVE, 0))
    acldir = mkdir(os.path.join(scratch, "A"), 0o755)
    set_acl(acldir, (EVE, 0), group=5, mask=5, other=5)
    inside = os.path.join(acldir, "s.sock")
    lst_inside = unix_socket(held, inside, socket.SOCK_STREAM, 0o777)
    own = os.path.join(scratch, "own.sock")
    lst_own = unix_socket(held, own, socket.SOCK_STREAM, 0o700, (EVE, EVE))
    set_acl(own, (MALLORY, 7), group=0, mask=7, other=7)
    eve, mallory = agents(nobody_sockd, EVE), agents(nobody_sockd, MALLORY)
    for path in [denied, inside]:
        assert plain_errno(eve, "connect", "AF_UNIX", "SOCK_STREAM",
                           [path]) == errno.EACCES, path
        _, res = connect_unix(eve, path)
        expect_errno(res, errno.EACCES,
                     f"uid {EVE}: Connect {path} (ACL user:{EVE}:---)")
    assert plain_errno(eve, "sendto", "AF_UNIX", "SOCK_DGRAM",
                       [aclsink_path]) == errno.EACCES
    expect_errno(sendto_unix(eve, aclsink_path), errno.EACCES,
                 f"uid {EVE}: SendTo {aclsink_path} (ACL user:{EVE}:---)")
    for s in [lst, lst_inside, sink]:
        assert nothing_waiting(s), f"{s.getsockname()} was reached"
    # The owner's own socket: its owner bits decide, ACL or not.
    _, res = connect_unix(eve, own)
    assert res == {"ok": {}}, f"uid {EVE}: Connect its own {own}: {res}"
    accept_py(lst_own).close()
    # 1502, whom the ACL lets in, is refused: sockd does not read ACLs.
    assert plain_errno(mallory, "connect", "AF_UNIX", "SOCK_STREAM",
                       [own]) == 0
    accept_py(lst_own).close()
    _, res = connect_unix(mallory, own)
    expect_errno(res, errno.EACCES,
                 f"uid {MALLORY}: Connect {own} (another uid's, with an "
                 f"ACL)")
    assert nothing_waiting(lst_own)
