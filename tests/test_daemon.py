"""sockd's own command line, its control socket file, and behaviours
found while documenting it (hangups while not reading, MSG_WAITALL with a
timeout, the accepted socket's scope)."""
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import REPO, SOCKD, make_tmpdir
from helpers import d_connected, d_listener, new_socket
from varlink import unb64, wait_until


def run_sockd(*args, timeout=10):
    return subprocess.run([SOCKD, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout)


def configure_version():
    with open(os.path.join(REPO, "configure.ac")) as f:
        return re.search(r"AC_INIT\(\[sockd\], \[([^]]+)\]", f.read())[1]


def test_help_lists_every_option():
    r = run_sockd("--help")
    assert r.returncode == 0
    out = r.stdout.decode()
    for opt in ("--socket", "--policy", "--max-message", "--max-connections",
                "--max-connections-per-uid", "--max-handles-per-uid",
                "--verbose", "--help", "--version"):
        assert opt in out, opt


def test_version_is_the_package_version():
    r = run_sockd("--version")
    assert r.returncode == 0
    assert r.stdout.decode().split() == ["sockd", configure_version()]


@pytest.mark.parametrize("args", [
    ["--max-message", "100"],          # below the 4096 floor
    ["--max-message", "-5"],
    ["--max-connections", "0"],
    ["--max-connections-per-uid", "x"],
    ["--max-handles-per-uid", "1e3"],
    ["--no-such-option"],
    ["stray-argument"],
])
def test_usage_errors_exit_2(args):
    d = make_tmpdir()
    r = run_sockd("--socket", os.path.join(d, "s.sock"), *args)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(b"sockd: ")
    assert not os.path.exists(os.path.join(d, "s.sock"))


def test_refuses_to_replace_a_file_that_is_not_a_socket():
    d = make_tmpdir()
    path = os.path.join(d, "s.sock")
    with open(path, "w") as f:
        f.write("precious")
    r = run_sockd("--socket", path)
    assert r.returncode == 1
    assert b"not a socket" in r.stderr
    with open(path) as f:
        assert f.read() == "precious"


def test_refuses_a_socket_something_listens_on():
    d = make_tmpdir()
    path = os.path.join(d, "s.sock")
    other = socket.socket(socket.AF_UNIX)
    other.bind(path)
    other.listen()
    r = run_sockd("--socket", path)
    assert r.returncode == 1
    assert os.path.exists(path)
    c = socket.socket(socket.AF_UNIX)
    c.connect(path)        # still the other listener's
    other.accept()[0].close()
    c.close()
    other.close()


def test_replaces_a_stale_socket(start_sockd):
    d = make_tmpdir()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(os.path.join(d, "sockd.sock"))
    stale.close()           # the file stays, nobody listens
    s = start_sockd(tmpdir=d)
    assert s.client().call("io.sockd.List")["sockets"] == []


def test_hangup_noticed_while_input_is_full(start_sockd):
    # A waiting call, then more queued input than the daemon reads, then
    # a full close: the daemon must still notice the client left and
    # close its scoped handles.
    s = start_sockd("--max-message", "4096")
    c = s.client()
    lst, _ = d_listener(c)
    c.send_call("io.sockd.Accept", {"handle": lst})
    call = (b'{"method":"io.sockd.List"}\0' * 2000)  # ~50 KB queued
    c.sock.setblocking(False)
    try:
        c.sock.send(call)
    except BlockingIOError:
        pass
    c.close()
    other = s.client()
    wait_until(lambda: not other.call("io.sockd.List")["sockets"],
               timeout=5, what="scoped handles closed after the hangup")


def test_waitall_with_a_timeout_returns_what_came(sockd):
    # Python: on a socket with a timeout, recv(n, MSG_WAITALL) returns the
    # data one readiness brings; nothing is lost.
    c = sockd.client()
    h, peer = d_connected(c)
    c.call("io.sockd.SetTimeout", {"handle": h, "timeout": 2})
    peer.sendall(b"abc")
    r = c.call("io.sockd.Recv", {"handle": h, "bufsize": 10,
                                 "flags": ["MSG_WAITALL"]})
    got = unb64(r["data"])
    assert b"abc".startswith(got) and got
    peer.sendall(b"def")
    rest = b""
    while len(got + rest) < 6:
        rest += unb64(c.call("io.sockd.Recv",
                             {"handle": h, "bufsize": 10})["data"])
    assert got + rest == b"abcdef"


def test_accepted_socket_has_the_listeners_scope(sockd):
    # A scoped listener of connection A, accepted on by connection B of
    # the same uid: the new socket dies with A, like the listener.
    a = sockd.client()
    b = sockd.client()
    lst, addr = d_listener(a)
    peer = socket.create_connection(("127.0.0.1", addr["port"]))
    acc = b.call("io.sockd.Accept", {"handle": lst})["handle"]
    persistent = new_socket(b, persistent=True)
    a.close()
    wait_until(lambda: [s["handle"] for s in
                        b.call("io.sockd.List")["sockets"]] == [persistent],
               timeout=5, what="listener and accepted socket closed")
    peer.settimeout(5)
    assert peer.recv(10) == b""    # the daemon's end was closed
    peer.close()
    assert acc != persistent


def test_connect_again_after_refusal_is_refused_again(sockd):
    # A blocking connect that failed leaves the socket ready to connect
    # again: Python says ECONNREFUSED both times (not ECONNABORTED).
    import errno
    from helpers import expect_oserror, free_port
    c = sockd.client()
    holder = free_port()     # bound, not listening: connects are refused
    port = holder.getsockname()[1]
    h = new_socket(c)
    for _ in range(2):
        expect_oserror(errno.ECONNREFUSED, c.call, "io.sockd.Connect",
                       {"handle": h,
                        "address": {"host": "127.0.0.1", "port": port}})
    holder.close()


@pytest.mark.parametrize("name", ["42", "a b", "tab\there", "bell\x07", ""])
def test_bad_handle_names_are_refused(sockd, name):
    from helpers import expect_invalid
    c = sockd.client()
    expect_invalid("name", c.call, "io.sockd.Socket",
                   {"family": "AF_INET", "type": "SOCK_STREAM",
                    "name": name})
    assert c.call("io.sockd.List")["sockets"] == []
