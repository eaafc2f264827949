"""Names and hand-off: io.sockd.Find, and `sockc exec`, which runs a
program with sockets made through sockd and passed the systemd
socket-activation way (fds 3, 4, ..., LISTEN_FDS, LISTEN_FDNAMES,
LISTEN_PID).

The sockc under test is <builddir>/client/sockc, beside the daemon SOCKD
names (<builddir>/daemon/sockd). The programs it runs are /usr/bin/python3
scripts that report what they were given as JSON lines on stdout.
"""
import errno
import json
import os
import select
import socket
import subprocess
import time

import pytest

from conftest import SANITIZER_MARKS, SOCKD
from helpers import (expect_invalid, expect_oserror, inet_addr, new_socket,
                     d_listener, py_listener, free_port, run_as, setpriv)

BUILDDIR = os.path.dirname(os.path.dirname(os.path.realpath(SOCKD)))
SOCKC = os.path.join(BUILDDIR, "client", "sockc")
PYTHON = "/usr/bin/python3"  # reachable for other uids, unlike a venv's
NOBODY = 65534
DEADLINE = 20

# What every program run by sockc exec reports first: its environment's
# LISTEN_* variables, its pid, its open fds, and each passed socket.
PRELUDE = r"""
import json, os, select, socket, sys
n = int(os.environ.get("LISTEN_FDS", "0"))
fds = sorted(int(f) for f in os.listdir("/proc/self/fd")
             if os.path.exists("/proc/self/fd/" + f))
socks, info = [], []
for fd in range(3, 3 + n):
    blocking = os.get_blocking(fd)
    s = socket.socket(fileno=fd)
    try:
        peer = s.getpeername()
    except OSError:
        peer = None
    socks.append(s)
    info.append({"fd": fd, "family": s.family.name, "type": s.type.name,
                 "listening": s.getsockopt(socket.SOL_SOCKET,
                                           socket.SO_ACCEPTCONN),
                 "reuseaddr": s.getsockopt(socket.SOL_SOCKET,
                                           socket.SO_REUSEADDR),
                 "blocking": blocking, "local": s.getsockname(),
                 "peer": peer})
print(json.dumps({
    "env": {k: os.environ.get(k) for k in
            ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
             "SOCKD_EXEC_TEST")},
    "pid": os.getpid(), "fds": fds, "socks": info, "argv": sys.argv[1:],
}), flush=True)
"""


def sockc_argv(path, *args):
    if not os.path.exists(SOCKC):
        pytest.fail(f"sockc binary {SOCKC} does not exist")
    return [SOCKC, "--socket", path, *args]


def no_sanitizer_report(text):
    assert not any(m in text for m in SANITIZER_MARKS), text


class Program:
    """sockc exec OPTS -- python3 -c PRELUDE+BODY, running."""

    def __init__(self, sockd, opts, body="", env=None, args=(),
                 dashdash=True):
        argv = sockc_argv(sockd.path, "exec", *opts,
                          *(["--"] if dashdash else []),
                          PYTHON, "-c", PRELUDE + body, *args)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=full_env)
        self.buf = b""

    def line(self, timeout=DEADLINE):
        """The next JSON line the program prints."""
        end = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self.proc.kill()
                pytest.fail(f"no line from the program within {timeout} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                rc, _, err = self.finish()
                pytest.fail(f"the program ended (status {rc}) without a "
                            f"line:\n{err}")
            self.buf += chunk
        text, self.buf = self.buf.split(b"\n", 1)
        return json.loads(text)

    def finish(self, timeout=DEADLINE):
        """(status, the rest of stdout, stderr)."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            pytest.fail(f"the program ran longer than {timeout} s:\n"
                        f"{err.decode()}")
        err = err.decode("utf-8", "replace")
        no_sanitizer_report(err)
        return self.proc.returncode, self.buf + out, err


def run_sockc(path, *args, env=None, timeout=DEADLINE, prefix=()):
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run([*prefix, *sockc_argv(path, *args)],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       env=full_env, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    no_sanitizer_report(err)
    return p.returncode, p.stdout.decode("utf-8", "replace"), err


def handles(c):
    return c.call("io.sockd.List")["sockets"]


def wait_no_handles(c, timeout=5):
    """The caller's handles, once none are left (or the deadline)."""
    end = time.monotonic() + timeout
    while handles(c) and time.monotonic() < end:
        time.sleep(0.02)
    return handles(c)


def check_passed(info, proc, names):
    """The LISTEN_* protocol, as sd_listen_fds(3) reads it."""
    n = len(names)
    assert info["env"]["LISTEN_FDS"] == str(n), info
    assert info["env"]["LISTEN_PID"] == str(info["pid"]), info
    assert info["pid"] == proc.pid, "exec keeps the pid"
    assert info["env"]["LISTEN_FDNAMES"] == ":".join(names), info
    # Exactly 0, 1, 2 and the sockets: not sockc's connection to sockd.
    assert info["fds"] == list(range(3 + n)), info
    assert [s["fd"] for s in info["socks"]] == list(range(3, 3 + n))


# --- Find ------------------------------------------------------------------


def test_find_own_handle(sockd):
    c = sockd.client()
    h = new_socket(c, persistent=True, name="web")
    other = new_socket(c, "AF_INET", "SOCK_DGRAM", name="dns")
    assert c.call("io.sockd.Find", {"name": "web"}) == {"handle": h}
    assert c.call("io.sockd.Find", {"name": "dns"}) == {"handle": other}
    # From another connection of the same uid.
    assert sockd.client().call("io.sockd.Find", {"name": "web"}) == \
        {"handle": h}
    c.call("io.sockd.Close", {"handle": h})
    e = expect_oserror(errno.ENOENT, c.call, "io.sockd.Find",
                       {"name": "web"})
    assert "web" in e.params["message"]


def test_find_unknown_name(sockd):
    c = sockd.client()
    new_socket(c, persistent=True, name="web")
    e = expect_oserror(errno.ENOENT, c.call, "io.sockd.Find",
                       {"name": "nope"})
    assert "nope" in e.params["message"]
    expect_oserror(errno.ENOENT, c.call, "io.sockd.Find", {"name": ""})
    # A NUL would cut the name short in C: it is no name at all.
    expect_invalid("name", c.call, "io.sockd.Find", {"name": "web\0tail"})
    expect_oserror(errno.ENOENT, c.call, "io.sockd.Find",
                   {"name": "x" * 300})
    expect_invalid("name", c.call, "io.sockd.Find", {})
    expect_invalid("name", c.call, "io.sockd.Find", {"name": 1})
    expect_invalid("handle", c.call, "io.sockd.Find",
                   {"name": "web", "handle": 1})


def test_find_scoped_handle_dies_with_its_connection(sockd):
    c1, c2 = sockd.client(), sockd.client()
    h = new_socket(c1, name="scoped")
    assert c2.call("io.sockd.Find", {"name": "scoped"}) == {"handle": h}
    c1.close()
    end = time.monotonic() + 5
    while time.monotonic() < end:
        try:
            c2.call("io.sockd.Find", {"name": "scoped"})
        except Exception:
            break
        time.sleep(0.02)
    expect_oserror(errno.ENOENT, c2.call, "io.sockd.Find",
                   {"name": "scoped"})


@pytest.fixture
def policy_sockd(start_sockd, tmpdir_short):
    """A sockd whose policy lets uid 65534 make TCP sockets."""
    assert os.getuid() == 0, "the cross-uid tests run as root"
    path = os.path.join(tmpdir_short, "policy.json")
    with open(path, "w") as f:
        json.dump({"rules": [{"users": [NOBODY], "families": ["AF_INET"],
                              "types": ["SOCK_STREAM"]}]}, f)
    return start_sockd("--policy", path)


def test_find_other_uid(policy_sockd):
    d = policy_sockd
    root = d.client()
    mine = new_socket(root, persistent=True, name="shared")
    new_socket(root, persistent=True, name="root-only")
    made = run_as(NOBODY, d.path, [
        ["io.sockd.Socket", {"family": "AF_INET", "type": "SOCK_STREAM",
                             "persistent": True, "name": "shared"}],
        ["io.sockd.Socket", {"family": "AF_INET", "type": "SOCK_STREAM",
                             "persistent": True, "name": "nobody-only"}],
    ])
    theirs = made[0]["ok"]["handle"]
    only = made[1]["ok"]["handle"]
    found = run_as(NOBODY, d.path, [
        ["io.sockd.Find", {"name": "shared"}],
        ["io.sockd.Find", {"name": "nobody-only"}],
        ["io.sockd.Find", {"name": "root-only"}],
    ])
    # Each uid finds its own handle of a name both use.
    assert found[0] == {"ok": {"handle": theirs}}, found
    assert found[1] == {"ok": {"handle": only}}, found
    # Never another uid's.
    assert found[2]["error"] == "io.sockd.OSError", found
    assert found[2]["parameters"]["errno"] == errno.ENOENT, found
    assert root.call("io.sockd.Find", {"name": "shared"}) == \
        {"handle": mine}
    # Root too finds only its own names (it reaches others by number).
    expect_oserror(errno.ENOENT, root.call, "io.sockd.Find",
                   {"name": "nobody-only"})
    assert any(s["handle"] == only for s in handles(root))

    # sockc's names go through Find: root's name is root's handle...
    rc, out, err = run_sockc(d.path, "close", "shared")
    assert rc == 0, err
    assert not any(s["handle"] == mine for s in handles(root))
    assert any(s["handle"] == theirs for s in handles(root))
    # ... and another uid's name is none of root's.
    rc, out, err = run_sockc(d.path, "close", "nobody-only")
    assert rc == 1 and "no handle named 'nobody-only'" in err, (rc, err)
    # The other uid names its own.
    rc, out, err = run_sockc(d.path, "close", "nobody-only",
                             prefix=setpriv(NOBODY))
    assert rc == 0, err
    assert not any(s["handle"] == only for s in handles(root))


def test_cli_names_through_find(sockd):
    c = sockd.client()
    h, addr = d_listener(c, persistent=True, name="web")
    rc, out, err = run_sockc(sockd.path, "getsockname", "web")
    assert rc == 0, err
    assert out.strip() == f"127.0.0.1:{addr['port']}"
    rc, out, err = run_sockc(sockd.path, "getsockname", "nope")
    assert rc == 1 and err == "sockc: no handle named 'nope'\n", (rc, err)
    assert [s["handle"] for s in handles(c)] == [h]


# --- sockc exec ------------------------------------------------------------


def test_exec_listen(sockd):
    c = sockd.client()
    p = Program(sockd, ["--listen", "127.0.0.1:0"], r"""
conn, _ = socks[0].accept()
data = conn.recv(100)
conn.sendall(data.upper())
conn.close()
""", env={"SOCKD_EXEC_TEST": "kept", "LISTEN_FDNAMES": "stale",
          "LISTEN_FDS": "9", "LISTEN_PID": "1"})
    info = p.line()
    check_passed(info, p.proc, ["listen"])
    assert info["env"]["SOCKD_EXEC_TEST"] == "kept", "environment kept"
    s = info["socks"][0]
    assert (s["family"], s["type"]) == ("AF_INET", "SOCK_STREAM"), s
    assert s["listening"] == 1 and s["reuseaddr"] == 1, s
    assert s["blocking"] is True, "a detached socket is blocking"
    host, port = s["local"]
    assert host == "127.0.0.1" and port > 0, s
    # The socket is the program's alone: sockd holds no handle for it.
    assert handles(c) == []
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(b"ping")
        assert conn.recv(100) == b"PING"
    rc, out, err = p.finish()
    assert rc == 0, err
    assert err == ""


def test_exec_connect(sockd):
    lst = py_listener()
    port = lst.getsockname()[1]
    p = Program(sockd, ["--connect", f"127.0.0.1:{port}"], r"""
socks[0].sendall(b"hello from fd 3")
socks[0].shutdown(socket.SHUT_WR)
print(json.dumps({"reply": socks[0].recv(100).decode()}), flush=True)
""")
    info = p.line()
    check_passed(info, p.proc, ["connect"])
    s = info["socks"][0]
    assert (s["family"], s["type"]) == ("AF_INET", "SOCK_STREAM"), s
    assert s["listening"] == 0 and s["blocking"] is True, s
    assert s["peer"] == ["127.0.0.1", port], s
    peer, addr = lst.accept()
    peer.settimeout(10)
    assert list(addr) == s["local"]
    got = b""
    while not got.endswith(b"fd 3"):
        b = peer.recv(100)
        assert b, got
        got += b
    assert got == b"hello from fd 3"
    peer.sendall(b"bye")
    peer.close()
    lst.close()
    assert p.line() == {"reply": "bye"}
    rc, _, err = p.finish()
    assert rc == 0, err


def test_exec_udp(sockd):
    p = Program(sockd, ["--udp", "127.0.0.1:0"], r"""
data, addr = socks[0].recvfrom(100)
socks[0].sendto(data[::-1], addr)
""")
    info = p.line()
    check_passed(info, p.proc, ["udp"])
    s = info["socks"][0]
    assert (s["family"], s["type"]) == ("AF_INET", "SOCK_DGRAM"), s
    assert s["blocking"] is True and s["local"][1] > 0, s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(10)
        u.sendto(b"abc", tuple(s["local"]))
        data, addr = u.recvfrom(100)
    assert data == b"cba" and list(addr) == s["local"]
    rc, _, err = p.finish()
    assert rc == 0, err


def test_exec_name(sockd):
    c = sockd.client()
    h, addr = d_listener(c, persistent=True, name="web")
    p = Program(sockd, ["--name", "web"], r"""
assert select.select([socks[0]], [], [], 20)[0]
conn, _ = socks[0].accept()
conn.setblocking(True)
conn.sendall(conn.recv(100) + b"!")
conn.close()
""")
    info = p.line()
    check_passed(info, p.proc, ["web"])
    s = info["socks"][0]
    assert s["local"] == ["127.0.0.1", addr["port"]], s
    assert s["listening"] == 1, s
    assert s["blocking"] is False, "shared with sockd: stays non-blocking"
    with socket.create_connection(("127.0.0.1", addr["port"]),
                                  timeout=10) as conn:
        conn.sendall(b"hi")
        assert conn.recv(100) == b"hi!"
    rc, _, err = p.finish()
    assert rc == 0, err
    # The handle stays, under its name, and sockd can still use it.
    listed = handles(c)
    assert [(x["handle"], x.get("name"), x["persistent"])
            for x in listed] == [(h, "web", True)]
    assert c.call("io.sockd.Find", {"name": "web"}) == {"handle": h}
    with socket.create_connection(("127.0.0.1", addr["port"]),
                                  timeout=10):
        got = c.call("io.sockd.Accept", {"handle": h})
    c.call("io.sockd.Close", {"handle": got["handle"]})


def test_exec_several(sockd, tmpdir_short):
    c = sockd.client()
    lst = py_listener()
    port = lst.getsockname()[1]
    h = new_socket(c, "AF_INET", "SOCK_DGRAM", persistent=True, name="svc")
    c.call("io.sockd.Bind", {"handle": h,
                             "address": inet_addr("127.0.0.1", 0)})
    unix = os.path.join(tmpdir_short, "app.sock")
    p = Program(sockd, ["--listen", "127.0.0.1:0", "--udp", "127.0.0.1:0",
                        "--name", "svc", "--connect", f"127.0.0.1:{port}",
                        "--listen", unix])
    info = p.line()
    check_passed(info, p.proc, ["listen", "udp", "svc", "connect",
                                "listen"])
    got = [(s["family"], s["type"], s["listening"]) for s in info["socks"]]
    assert got == [("AF_INET", "SOCK_STREAM", 1),
                   ("AF_INET", "SOCK_DGRAM", 0),
                   ("AF_INET", "SOCK_DGRAM", 0),
                   ("AF_INET", "SOCK_STREAM", 0),
                   ("AF_UNIX", "SOCK_STREAM", 1)], info
    assert [s["blocking"] for s in info["socks"]] == \
        [True, True, False, True, True]
    assert info["socks"][4]["local"] == unix
    rc, _, err = p.finish()
    assert rc == 0, err
    lst.close()
    assert [x["handle"] for x in handles(c)] == [h]


def test_exec_ipv6_wildcard(sockd):
    """No host binds every address, IPv6 dual-stack, as systemd's
    ListenStream=PORT does."""
    p = Program(sockd, ["--listen", ":0"], r"""
conn, _ = socks[0].accept()
conn.sendall(b"v4 ok")
conn.close()
""")
    info = p.line()
    s = info["socks"][0]
    assert s["family"] == "AF_INET6" and s["local"][0] == "::", s
    with socket.create_connection(("127.0.0.1", s["local"][1]),
                                  timeout=10) as conn:
        assert conn.recv(100) == b"v4 ok"
    rc, _, err = p.finish()
    assert rc == 0, err


def test_exec_options_end_at_program(sockd):
    """Without '--', the first argument that is not an option is PROGRAM,
    and what follows it is PROGRAM's, options or not."""
    p = Program(sockd, ["--udp", "127.0.0.1:0"], "",
                args=["--listen", "-x", "--", "--json"], dashdash=False)
    info = p.line()
    check_passed(info, p.proc, ["udp"])
    assert info["argv"] == ["--listen", "-x", "--", "--json"]
    rc, out, err = p.finish()
    assert rc == 0, err


def test_exec_exit_status_is_the_programs(sockd):
    p = Program(sockd, ["--udp", "127.0.0.1:0"], "sys.exit(42)")
    p.line()
    rc, _, _ = p.finish()
    assert rc == 42


def test_exec_missing_program(sockd, tmpdir_short):
    c = sockd.client()
    missing = os.path.join(tmpdir_short, "no-such-program")
    rc, out, err = run_sockc(sockd.path, "exec", "--listen", "127.0.0.1:0",
                             "--", missing)
    assert rc == 127, (rc, err)
    assert err == f"sockc: exec: {missing}: No such file or directory\n"
    rc, out, err = run_sockc(sockd.path, "exec", "--listen", "127.0.0.1:0",
                             "no-such-program-on-path-either")
    assert rc == 127, (rc, err)
    # Found but not runnable: 126, as env(1) says.
    plain = os.path.join(tmpdir_short, "not-executable")
    with open(plain, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(plain, 0o644)
    rc, out, err = run_sockc(sockd.path, "exec", "--listen", "127.0.0.1:0",
                             "--", plain)
    assert rc == 126, (rc, err)
    assert "Permission denied" in err
    assert wait_no_handles(c) == []


def test_exec_failures(sockd, tmpdir_short):
    c = sockd.client()
    marker = os.path.join(tmpdir_short, "ran")
    prog = ["--", "/usr/bin/touch", marker]
    refused = free_port()
    port = refused.getsockname()[1]

    rc, _, err = run_sockc(sockd.path, "exec", "--listen", "127.0.0.1:0",
                           "--connect", f"127.0.0.1:{port}", *prog)
    assert rc == 1, (rc, err)
    assert err.startswith(f"sockc: exec: --connect 127.0.0.1:{port}: "
                          f"[Errno {errno.ECONNREFUSED}] "), err
    assert "(ECONNREFUSED)" in err
    refused.close()
    rc, _, err = run_sockc(sockd.path, "exec", "--name", "nope", *prog)
    assert rc == 1, (rc, err)
    assert "sockc: exec: --name nope: [Errno 2]" in err
    assert "no handle named 'nope'" in err
    rc, _, err = run_sockc(sockd.path, "exec", "--listen",
                           "no-such-host.invalid:80", *prog)
    assert rc == 1 and "EAI_" in err, (rc, err)

    # Usage errors, before sockd is asked anything.
    for args in (prog,
                 ["--listen", "127.0.0.1"] + prog,
                 ["--listen", "::1:80"] + prog,
                 ["--connect", "01:02:03:04:05:06/1"] + prog,
                 ["--name", ""] + prog,
                 ["--bogus", "x"] + prog,
                 ["--listen", "127.0.0.1:0"],
                 ["--listen"]):
        rc, _, err = run_sockc(sockd.path, "exec", *args)
        assert rc == 2, (args, rc, err)
        assert err.startswith("sockc: exec: "), (args, err)

    # A name that LISTEN_FDNAMES cannot carry.
    h = new_socket(c, persistent=True, name="a:b")
    rc, _, err = run_sockc(sockd.path, "exec", "--name", "a:b", *prog)
    assert rc == 2 and "LISTEN_FDNAMES" in err, (rc, err)
    c.call("io.sockd.Close", {"handle": h})

    # sockd unreachable.
    rc, _, err = run_sockc(os.path.join(tmpdir_short, "absent.sock"),
                           "exec", "--listen", "127.0.0.1:0", *prog)
    assert rc == 3, (rc, err)

    assert not os.path.exists(marker), "the program ran after a failure"
    assert wait_no_handles(c) == [], "sockets left in sockd"


def test_exec_help_and_table(sockd):
    rc, out, err = run_sockc(sockd.path, "help", "exec")
    assert rc == 0, err
    assert out.startswith("Usage: sockc exec [--connect ADDR]... "
                          "[--listen ADDR]... [--udp ADDR]... "
                          "[--name NAME]... [--] PROGRAM [ARG]...\n")
    assert "LISTEN_FDNAMES" in out
    rc, out, err = run_sockc(sockd.path, "--help")
    assert rc == 0 and "\n  exec " in out
    rc, out, err = run_sockc(sockd.path, "__complete", "command-options",
                             "exec")
    assert rc == 0
    assert {"--connect", "--listen", "--udp", "--name"} <= set(out.split())


def privileged_free_port():
    """A port below 1024 nobody is using on 127.0.0.1 (root can tell)."""
    for port in range(990, 600, -1):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    pytest.fail("no free port below 1024")


ECHO_ONCE = PRELUDE + r"""
conn, _ = socks[0].accept()
conn.sendall(conn.recv(100).upper())
conn.close()
"""


def test_unprivileged_server_on_a_privileged_port(start_sockd, tmpdir_short):
    # authbind-style: uid 65534 may not bind below 1024 itself, but the
    # policy lets it, and sockc exec --listen hands it the socket.
    port = privileged_free_port()
    direct = subprocess.run(
        [*setpriv(NOBODY), PYTHON, "-c",
         f"import socket; socket.socket().bind(('127.0.0.1', {port}))"],
        capture_output=True, timeout=DEADLINE)
    assert direct.returncode != 0 and b"PermissionError" in direct.stderr
    policy = os.path.join(tmpdir_short, "policy.json")
    with open(policy, "w") as f:
        json.dump({"rules": [{"name": "web", "users": [NOBODY],
                              "families": ["AF_INET"],
                              "types": ["SOCK_STREAM"],
                              "bind": ["127.0.0.1:80-1023"],
                              "fileno": "detach"}]}, f)
    d = start_sockd("--policy", policy)
    # Not granted: a port outside the range.
    rc, out, err = run_sockc(d.path, "exec", "--listen", "127.0.0.1:1024",
                             "--", PYTHON, "-c", "pass",
                             prefix=setpriv(NOBODY))
    assert rc == 1 and "EACCES" in err and '"web"' in err, (rc, err)
    # Every refused command says which rule refused it.
    rc, out, err = run_sockc(d.path, "socket", "inet", "dgram",
                             prefix=setpriv(NOBODY))
    assert rc == 1 and "refused by policy" in err and '"web"' in err, err
    server = subprocess.Popen(
        [*setpriv(NOBODY),
         *sockc_argv(d.path, "exec", "--listen", f"127.0.0.1:{port}", "--",
                     PYTHON, "-c", ECHO_ONCE)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        report = json.loads(server.stdout.readline())
        assert report["env"]["LISTEN_FDS"] == "1"
        assert report["socks"][0]["local"] == ["127.0.0.1", port]
        assert report["socks"][0]["listening"] == 1
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"hello")
            assert s.recv(100) == b"HELLO"
        assert server.wait(DEADLINE) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    no_sanitizer_report(server.stderr.read().decode("utf-8", "replace"))
