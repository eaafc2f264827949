"""systemd integration: the notify protocol, socket activation, and the fd
store that lets persistent handles survive a restart.

The service manager is played by the tests: a private NOTIFY_SOCKET (see
notify.py), systemd-socket-activate for activation, and manager.py for the
fd store, which passes stored fds back the way systemd does.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import SOCKD, make_tmpdir
from helpers import (d_connected, d_listener, inet_addr, new_socket,
                     peer_eof, py_listener, recv_exact_py, run_as)
from manager import Manager
from notify import NotifyListener
from varlink import Client, VarlinkError, b64, unb64, wait_until

OTHER = 65528  # a uid with no passwd entry, granted sockets by a policy


def call(c, method, **params):
    return c.call("io.sockd." + method, params)


def status_of(n):
    return n.fields.get("STATUS", "")


# -- notify ----------------------------------------------------------------


def test_ready_comes_with_a_status_line(sockd):
    first = sockd.notify.wait_line("READY=1")
    assert first.fields["STATUS"].startswith(
        "0 connections, 0 handles (0 persistent)"), first.text
    assert "default policy" in first.fields["STATUS"]


def test_status_follows_connections_and_handles(sockd):
    c = sockd.client()
    new_socket(c)
    new_socket(c, persistent=True)
    n = sockd.notify.wait_for(
        lambda n: status_of(n).startswith(
            "1 connection, 2 handles (1 persistent)"),
        what="STATUS= with the new counts")
    c.close()
    # The scoped handle closes with its connection; the persistent stays.
    later = sockd.notify.wait_for(
        lambda n: status_of(n).startswith(
            "0 connections, 1 handle (1 persistent)"),
        what="STATUS= after the client left")
    assert later.time >= n.time


def test_status_is_not_flooded(sockd):
    """A burst of changes gives at most one STATUS= a second."""
    c = sockd.client()
    t0 = time.monotonic()
    for _ in range(50):
        h = new_socket(c)
        call(c, "Close", handle=h)
    t1 = time.monotonic()
    sockd.notify.wait_for(lambda n: n.time > t0 and "STATUS" in n.fields
                          and "READY" not in n.fields,
                          what="a STATUS= after the burst")
    updates = [n for n in sockd.notify.snapshot()
               if n.time >= t0 and "STATUS" in n.fields]
    assert 1 <= len(updates) <= int(t1 - t0) + 2, \
        [n.text for n in updates]


def test_no_watchdog_unless_asked(sockd):
    c = sockd.client()
    call(c, "List")
    assert sockd.stop() == 0
    assert not sockd.notified("WATCHDOG=1"), sockd.notifications


def test_watchdog_pings_at_half_the_interval(start_sockd):
    usec = 1000000
    d = start_sockd(env={"WATCHDOG_USEC": str(usec)})
    start = time.monotonic()
    wait_until(lambda: len([n for n in d.notify.snapshot()
                            if n.fields.get("WATCHDOG") == "1"]) >= 6,
               timeout=10, what="six WATCHDOG=1")
    pings = [n.time for n in d.notify.snapshot()
             if n.fields.get("WATCHDOG") == "1"]
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    # systemd kills a service that is silent for WATCHDOG_USEC.
    assert max(gaps) < usec / 1e6, gaps
    # Half the interval, not much more often: 6 pings take > 2 s.
    assert pings[5] - start > 2.0, gaps


def test_watchdog_for_another_pid_is_ignored(start_sockd):
    d = start_sockd(env={"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
    with pytest.raises(AssertionError):
        d.notify.wait_line("WATCHDOG=1", timeout=1.0)


def test_reload_is_framed_by_reloading_and_ready(sockd):
    since = len(sockd.notify.snapshot())
    before = time.monotonic_ns() // 1000
    sockd.proc.send_signal(signal.SIGHUP)
    reloading = sockd.notify.wait_line("RELOADING=1", since=since)
    after = time.monotonic_ns() // 1000
    usec = int(reloading.fields["MONOTONIC_USEC"])
    assert before <= usec <= after
    index = sockd.notify.snapshot().index(reloading)
    ready = sockd.notify.wait_line("READY=1", since=index + 1)
    assert "STATUS" in ready.fields
    # And it still serves.
    assert "sockets" in call(sockd.client(), "List")


def test_failed_reload_shows_in_status(start_sockd, tmpdir_short):
    policy = os.path.join(tmpdir_short, "policy.json")
    with open(policy, "w") as f:
        f.write('{"rules": []}')
    d = start_sockd("--policy", policy, tmpdir=tmpdir_short)
    with open(policy, "w") as f:
        f.write('{"rules": [')
    since = len(d.notify.snapshot())
    d.proc.send_signal(signal.SIGHUP)
    ready = d.notify.wait_line("READY=1", since=since)
    assert "the last reload failed" in ready.fields["STATUS"], ready.text
    assert "policy.json" in ready.fields["STATUS"]


def test_stopping_then_exit_zero(sockd):
    sockd.proc.send_signal(signal.SIGTERM)
    n = sockd.notify.wait_line("STOPPING=1")
    assert sockd.proc.wait(10) == 0
    assert n.time <= time.monotonic()


# -- socket activation -------------------------------------------------------


def activate(tmpdir, paths, *args, fdnames=None):
    """sockd started by systemd-socket-activate listening on paths."""
    tool = shutil.which("systemd-socket-activate")
    assert tool, "systemd-socket-activate is needed (Debian package systemd)"
    notify = NotifyListener(os.path.join(tmpdir, "notify"))
    argv = [tool]
    for p in paths:
        argv += ["-l", p]
    if fdnames:
        argv.append("--fdname=" + ":".join(fdnames))
    argv += ["-E", "NOTIFY_SOCKET=" + notify.path]
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "PATH"):
        if var in os.environ:
            argv += ["-E", var]
    unused = os.path.join(tmpdir, "unused.sock")
    argv += [SOCKD, "-v", "--socket", unused, *args]
    err = open(os.path.join(tmpdir, "stderr"), "wb")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err,
                            stderr=err)
    err.close()
    for p in paths:
        wait_until(lambda: os.path.exists(p), what=f"{p} to be created")
    return proc, notify, unused


def stop_activated(proc, notify, tmpdir):
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(10)
    notify.close()
    with open(os.path.join(tmpdir, "stderr"), "rb") as f:
        text = f.read().decode("utf-8", "replace")
    assert rc == 0, text
    assert "Sanitizer" not in text and "runtime error" not in text, text
    return text


def test_socket_activation_serves_the_passed_socket(tmpdir_short):
    path = os.path.join(tmpdir_short, "activated.sock")
    proc, notify, unused = activate(tmpdir_short, [path])
    # systemd-socket-activate starts sockd at the first connection.
    c = Client(path)
    assert call(c, "List") == {"sockets": []}
    notify.wait_line("READY=1")
    assert not os.path.exists(unused), "--socket was created anyway"
    c.close()
    text = stop_activated(proc, notify, tmpdir_short)
    assert f"listening on {path}" in text
    # The socket file belongs to the manager: sockd leaves it.
    assert os.path.exists(path)


def test_socket_activation_with_two_sockets(tmpdir_short):
    paths = [os.path.join(tmpdir_short, n) for n in ("a.sock", "b.sock")]
    proc, notify, _ = activate(tmpdir_short, paths, fdnames=["one", "two"])
    clients = [Client(p) for p in paths]
    for c in clients:
        assert "sockets" in call(c, "List")
    h = call(clients[0], "Socket", family="AF_INET", type="SOCK_STREAM",
             persistent=True)["handle"]
    # Same daemon behind both: the handle made on one is seen on the other.
    assert [s["handle"] for s in call(clients[1], "List")["sockets"]] == [h]
    for c in clients:
        c.close()
    text = stop_activated(proc, notify, tmpdir_short)
    assert "(passed as one)" in text and "(passed as two)" in text


def test_passed_fd_that_is_not_a_control_socket_is_refused(tmpdir_short):
    m = Manager(tmpdir_short)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # no listen
    try:
        m.start(extra=[("bogus", udp.fileno()), ("idle", idle.fileno())])
        text = m.stderr()
        assert "(bogus) is not a listening Unix stream socket: refused" \
            in text, text
        assert "(idle) is not a listening Unix stream socket: refused" \
            in text, text
        # Nothing usable was passed, so it made --socket as usual.
        assert "sockets" in call(m.client(), "List")
    finally:
        udp.close()
        idle.close()
        problems = m.close()
    assert not problems, problems


# -- the fd store ------------------------------------------------------------


@pytest.fixture
def manager():
    d = make_tmpdir()
    managers = []

    def make(*args, env=None):
        m = Manager(d, args, env=env)
        managers.append(m)
        return m

    yield make
    problems = []
    for m in managers:
        problems += m.close()
    shutil.rmtree(d, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def fdname(h):
    return f"sockd-handle-{h}"


def test_restart_keeps_a_connected_tcp_handle(manager):
    m = manager()
    m.start()
    c = m.client()
    h, peer = d_connected(c, persistent=True, name="keep")
    call(c, "SetTimeout", handle=h, timeout=7.5)
    call(c, "SendAll", handle=h, data=b64(b"before "))
    assert recv_exact_py(peer, 7) == b"before "
    wait_until(lambda: fdname(h) in m.stored_names(),
               what="the handle in the fd store")
    pid = m.proc.pid
    m.restart()
    assert m.proc.pid != pid
    c = m.client()
    [info] = call(c, "List")["sockets"]
    assert info["handle"] == h and info["name"] == "keep"
    assert info["persistent"] is True and info["timeout"] == 7.5
    assert info["owner"] == os.getuid()
    assert info["peer"]["port"] == peer.getsockname()[1]
    assert call(c, "Find", name="keep")["handle"] == h
    assert call(c, "GetTimeout", handle=h)["timeout"] == 7.5
    # Data still flows both ways on the same TCP connection.
    call(c, "SendAll", handle=h, data=b64(b"after"))
    assert recv_exact_py(peer, 5) == b"after"
    peer.sendall(b"reply")
    got = unb64(call(c, "Recv", handle=h, bufsize=5)["data"])
    assert got == b"reply"
    assert f"handle {h} (keep) of uid {os.getuid()} restored" in m.stderr()
    # Ids are never reused: the next handle is a new number.
    assert new_socket(c) > h
    peer.close()


def test_restart_keeps_every_timeout_and_blocking_mode(manager):
    m = manager()
    m.start()
    c = m.client()

    def bound_udp(**kw):
        h = new_socket(c, "AF_INET", "SOCK_DGRAM", persistent=True, **kw)
        call(c, "Bind", handle=h, address=inet_addr("127.0.0.1", 0))
        return h

    blocking = new_socket(c, persistent=True)
    nonblocking = bound_udp()
    call(c, "SetBlocking", handle=nonblocking, blocking=False)
    timed = bound_udp()
    call(c, "SetTimeout", handle=timed, timeout=0.125)
    v6 = new_socket(c, "AF_INET6", "SOCK_DGRAM", persistent=True)
    call(c, "SetTimeout", handle=v6, timeout=3)
    m.restart()
    c = m.client()
    got = {s["handle"]: (s["family"], s["type"], s["timeout"])
           for s in call(c, "List")["sockets"]}
    assert got == {
        blocking: ("AF_INET", "SOCK_STREAM", None),
        nonblocking: ("AF_INET", "SOCK_DGRAM", 0.0),
        timed: ("AF_INET", "SOCK_DGRAM", 0.125),
        v6: ("AF_INET6", "SOCK_DGRAM", 3.0),
    }
    # And they behave so: EAGAIN at once, a timeout after waiting.
    with pytest.raises(VarlinkError) as e:
        call(c, "RecvFrom", handle=nonblocking, bufsize=16)
    assert e.value.error == "io.sockd.OSError"
    assert e.value.params["errno"] == 11
    with pytest.raises(VarlinkError) as e:
        call(c, "RecvFrom", handle=timed, bufsize=16)
    assert e.value.error == "io.sockd.Timeout"


def test_a_restored_listener_accepts_and_stores_what_it_accepts(manager):
    m = manager()
    m.start()
    c = m.client()
    lst, addr = d_listener(c, persistent=True, name="web")
    m.restart()
    peer = socket.create_connection(("127.0.0.1", addr["port"]), timeout=10)
    c = m.client()
    acc = call(c, "Accept", handle=lst)["handle"]
    assert acc > lst
    wait_until(lambda: fdname(acc) in m.stored_names(),
               what="the accepted handle in the fd store")
    m.restart()
    c = m.client()
    peer.sendall(b"ping")
    assert unb64(call(c, "Recv", handle=acc, bufsize=4)["data"]) == b"ping"
    peer.close()


def test_owner_survives_a_restart(manager, tmpdir_short):
    policy = os.path.join(tmpdir_short, "policy.json")
    with open(policy, "w") as f:
        json.dump({"rules": [{"name": "other-tcp", "users": [OTHER],
                              "families": ["AF_INET"],
                              "types": ["SOCK_STREAM"]}]}, f)
    m = manager("--policy", policy)
    m.start()
    [res] = run_as(OTHER, m.path, [["io.sockd.Socket", {
        "family": "AF_INET", "type": "SOCK_STREAM", "persistent": True,
        "name": "mine"}]])
    h = res["ok"]["handle"]
    m.restart()
    [info] = call(m.client(), "List")["sockets"]
    assert (info["handle"], info["owner"], info["name"]) == \
        (h, OTHER, "mine")
    # Still the other uid's: it finds it by name, and may close it.
    res = run_as(OTHER, m.path, [["io.sockd.Find", {"name": "mine"}],
                                 ["io.sockd.Close", {"handle": h}]])
    assert res == [{"ok": {"handle": h}}, {"ok": {}}]


def test_close_and_detach_leave_the_store_and_scoped_never_enter(manager):
    m = manager()
    m.start()
    c = m.client()
    closed = new_socket(c, persistent=True)
    detached = new_socket(c, persistent=True)
    kept = new_socket(c, persistent=True)
    scoped = new_socket(c)
    wait_until(lambda: {fdname(closed), fdname(detached), fdname(kept)}
               <= set(m.stored_names()), what="three stored handles")
    call(c, "Close", handle=closed)
    _, fds = c.call_fds("io.sockd.FileNo", {"handle": detached,
                                            "detach": True})
    for fd in fds:
        os.close(fd)
    wait_until(lambda: m.stored_names() == [fdname(kept)],
               what="only the kept handle in the store")
    assert fdname(scoped) not in [n.fields.get("FDNAME")
                                  for n in m.notify.snapshot()]
    assert sorted(os.listdir(os.path.join(m.runtime, "handles"))) == \
        sorted([f"{kept}.json", "next-id"])
    # Shutting down removes nothing.
    assert m.stop() == 0
    assert m.stored_names() == [fdname(kept)]


def stop_and_edit(m, h, edit):
    """Stop m, then change the metadata of handle h with edit(dict) (or
    remove the file when edit is None)."""
    assert m.stop() == 0
    path = m.meta_path(h)
    if edit is None:
        os.unlink(path)
        return
    with open(path) as f:
        meta = json.load(f)
    text = edit(meta)
    with open(path, "w") as f:
        f.write(text if isinstance(text, str) else json.dumps(meta))


@pytest.mark.parametrize("edit, why", [
    (lambda meta: "{not json", "not a JSON object"),
    (None, "missing"),
    (lambda meta: meta.update(family="AF_INET6"),
     "the socket is AF_INET/SOCK_STREAM"),
    (lambda meta: meta.update(id=meta["id"] + 1), 'bad or missing "id"'),
    (lambda meta: meta.update(timeout=-1), 'bad or missing "timeout"'),
    (lambda meta: meta.update(owner="root"), 'bad or missing "owner"'),
    (lambda meta: meta.pop("type") and None, 'bad or missing "type"'),
    (lambda meta: meta.update(name="has space"), 'bad or missing "name"'),
], ids=["garbage", "missing", "family", "id", "timeout", "owner", "type",
        "name"])
def test_corrupt_metadata_closes_the_socket(manager, edit, why):
    m = manager()
    m.start()
    c = m.client()
    bad, peer = d_connected(c, persistent=True)
    good = new_socket(c, persistent=True, name="good")
    wait_until(lambda: len(m.stored_names()) == 2, what="two stored")
    stop_and_edit(m, bad, edit)
    m.start()
    text = m.stderr()
    assert f"stored fd {fdname(bad)}: " in text, text
    assert why in text, text
    assert "closed and dropped from the fd store" in text
    # Dropped from the store too, so the peer sees the connection end.
    m.notify.wait_for(lambda n: n.fields.get("FDSTOREREMOVE") == "1"
                      and n.fields.get("FDNAME") == fdname(bad),
                      what="FDSTOREREMOVE for the bad handle")
    assert m.stored_names() == [fdname(good)]
    assert peer_eof(peer)
    assert [s["handle"] for s in call(m.client(), "List")["sockets"]] == \
        [good]
    assert not os.path.exists(m.meta_path(bad))
    peer.close()


def test_metadata_without_a_socket_is_removed(manager):
    m = manager()
    m.start()
    c = m.client()
    h = new_socket(c, persistent=True)
    assert m.stop() == 0
    # The manager lost the fd (as systemd does past FileDescriptorStoreMax).
    m.sync()
    for _, fd in m.store:
        os.close(fd)
    m.store = []
    m.start()
    assert f"handle {h}: metadata without a stored socket" in m.stderr()
    assert not os.path.exists(m.meta_path(h))
    assert call(m.client(), "List") == {"sockets": []}
    assert new_socket(m.client()) > h


def test_ids_are_never_reused_across_restarts_and_crashes(manager):
    m = manager()
    m.start()
    c = m.client()
    new_socket(c, persistent=True)
    new_socket(c)                           # scoped: gone at restart
    last = new_socket(c, persistent=True)
    call(c, "Close", handle=last)           # closed: its id stays used
    m.restart()
    c = m.client()
    after_restart = new_socket(c)
    assert after_restart > last
    # A crash writes nothing at exit: the ids reserved on disk still hold.
    assert m.stop(signal.SIGKILL) == -signal.SIGKILL
    m.start()
    assert new_socket(m.client()) > after_restart


def test_stored_fd_without_runtime_directory_is_dropped(manager):
    m = manager()
    m.start()
    h = new_socket(m.client(), persistent=True)
    assert m.stop() == 0
    m.env["RUNTIME_DIRECTORY"] = ""
    m.start()
    text = m.stderr()
    assert f"stored fd {fdname(h)}: no metadata directory" in text, text
    m.notify.wait_for(lambda n: n.fields.get("FDSTOREREMOVE") == "1",
                      what="FDSTOREREMOVE")
    assert m.stored_names() == []


def test_no_fd_store_without_runtime_directory(sockd):
    """The plain test daemon has NOTIFY_SOCKET but no RUNTIME_DIRECTORY:
    persistent handles are not pushed anywhere."""
    c = sockd.client()
    new_socket(c, persistent=True)
    call(c, "List")
    assert sockd.stop() == 0
    assert not any("FDSTORE=1" in t.split("\n")
                   for t in sockd.notifications), sockd.notifications


# -- logging -----------------------------------------------------------------


def journal_daemon(start_sockd, *args):
    """A sockd whose stderr is a file that JOURNAL_STREAM names, as systemd
    does when stderr is the journal."""
    tmpdir = make_tmpdir()
    path = os.path.join(tmpdir, "stderr")
    open(path, "wb").close()
    st = os.stat(path)
    return start_sockd(*args, env={"JOURNAL_STREAM":
                                   f"{st.st_dev}:{st.st_ino}"},
                       tmpdir=tmpdir)


def log_lines(d):
    assert d.stop() == 0
    return [line for line in d.stderr().split("\n") if line]


def test_journal_lines_carry_priorities(start_sockd):
    d = journal_daemon(start_sockd, "-v")
    call(d.client(), "List")
    lines = log_lines(d)
    assert lines and all(line[:3] in ("<3>", "<4>", "<5>", "<6>", "<7>")
                         for line in lines), lines
    assert any(line.startswith("<6>listening on ") for line in lines), lines
    assert any(line.startswith("<7>connection from uid ")
               for line in lines), lines


def test_plain_lines_without_the_journal(start_sockd):
    d = start_sockd("-v", env={"JOURNAL_STREAM": "1:2"})  # not our stderr
    call(d.client(), "List")
    lines = log_lines(d)
    assert lines and all(line.startswith("sockd: ") for line in lines), lines


def test_debug_lines_only_with_v(start_sockd, tmpdir_short):
    policy = os.path.join(tmpdir_short, "policy.json")
    with open(policy, "w") as f:
        f.write('{"rules": []}')
    quiet = journal_daemon(start_sockd, "--policy", policy)
    call(quiet.client(), "List")
    lines = log_lines(quiet)
    # Notices still show; info and debug lines do not.
    assert f"<5>loaded policy {policy} (0 rules)" in lines, lines
    assert not [line for line in lines if line[:3] in ("<6>", "<7>")], lines


def test_status_follows_connections_alone(sockd):
    """A connection that makes no handle still shows in STATUS=."""
    c = sockd.client()
    call(c, "List")
    sockd.notify.wait_for(
        lambda n: status_of(n).startswith("1 connection, 0 handles"),
        what="STATUS= counting the connection")
    c.close()
    sockd.notify.wait_for(
        lambda n: status_of(n).startswith("0 connections, 0 handles")
        and "READY" not in n.fields,
        what="STATUS= after it left")
