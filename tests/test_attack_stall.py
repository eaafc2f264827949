"""Attacks that try to stall sockd (issue 10): a client that holds a
FileNo duplicate and clears O_NONBLOCK on it, calls that make the loop
spin, and lingering closes that wedge the daemon or pile up descriptors.

sockd's promise (DESIGN.md, "Credentials and policy"): no client can stall
the daemon or the others; no system call on a socket another process
shares may block whatever that process does to it; no call loops without
parking; no uid's work delays another's. Each test here reproduces one
attack against a real sockd and checks the safe outcome, most of them
with a bystander: a separate root connection whose GetInfo calls must
each be answered within a second throughout.
"""
import errno
import fcntl
import json
import os
import select
import socket
import struct
import subprocess
import threading
import time

import pytest

from agent import stop_process, write_policy
from conftest import TESTS
from helpers import (PYTHON, check_oserror, d_connected, d_listener,
                     inet_addr, new_socket, peer_eof, py_listener,
                     recv_exact_py, setpriv)
from varlink import (Client, ConnectionClosed, VarlinkError, b64,
                     call_message, unb64, wait_until)

BYSTANDER_INTERVAL = 0.05   # seconds between the bystander's calls
BYSTANDER_LIMIT = 1.0       # seconds each of its replies may take
TCP_SYN_SENT = 2            # tcpi_state of a connect under way
LINGERER = 1501             # the uid of the lingering-close test


# -- helpers ------------------------------------------------------------------

class Bystander:
    """Another root client that calls org.varlink.service.GetInfo every
    BYSTANDER_INTERVAL on its own connection, from a thread, while the
    attack runs. At exit every reply must have come within limit.

        with Bystander(daemon) as b:
            ...attack...
            b.hold(3.0)     # keep watching for that long (from entry)
    """

    def __init__(self, daemon, interval=BYSTANDER_INTERVAL,
                 limit=BYSTANDER_LIMIT):
        self.client = daemon.client(timeout=limit)
        self.interval = interval
        self.limit = limit
        self.calls = 0
        self.worst = 0.0
        self.failure = None
        self.started = None
        self._stop = threading.Event()
        self._failed = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _call(self):
        t0 = time.monotonic()
        self.client.send_call("org.varlink.service.GetInfo")
        info = Client.result(self.client.recv_msg(timeout=self.limit))
        took = time.monotonic() - t0
        self.calls += 1
        self.worst = max(self.worst, took)
        if took > self.limit:
            raise TimeoutError(f"reply took {took:.3f} s")
        if "io.sockd" not in info.get("interfaces", ()):
            raise AssertionError(f"bad GetInfo reply {info!r}")

    def _run(self):
        while not self._stop.is_set():
            try:
                self._call()
            except (TimeoutError, ConnectionClosed, OSError, VarlinkError,
                    AssertionError) as e:
                self.failure = (f"GetInfo #{self.calls + 1}, "
                                f"{time.monotonic() - self.started:.2f} s "
                                f"into the attack, not answered within "
                                f"{self.limit} s: {e}")
                self._failed.set()
                return
            self._stop.wait(self.interval)

    def hold(self, seconds):
        """Keep watching until seconds after entry (returns early once the
        bystander has failed: the test fails at exit anyway)."""
        self._failed.wait(max(0.0, self.started + seconds -
                              time.monotonic()))

    def problems(self):
        if self.failure is not None:
            return [f"bystander starved: {self.failure} (worst answered "
                    f"latency {self.worst:.3f} s over {self.calls} calls)"]
        if self.calls < 2:
            return [f"bystander made only {self.calls} calls"]
        return []

    def __enter__(self):
        self._call()            # the daemon answers before the attack
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._stop.set()
        self._thread.join(self.limit + 5)
        problems = self.problems()
        if problems:
            text = "\n".join(problems)
            if exc is not None:
                text += f"\nand the attack's own check failed: {exc}"
            raise AssertionError(text) from exc
        return False


def cpu_seconds(pid):
    """utime + stime of pid, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def fileno_share(c, h):
    """FileNo without detach: our duplicate of sockd's socket, as a Python
    socket sharing sockd's open file description."""
    params, fds = c.call_fds("io.sockd.FileNo", {"handle": h})
    assert params == {"fd": 0} and len(fds) == 1, (params, fds)
    return socket.socket(fileno=fds[0])


def nonblocking(sock):
    """Whether O_NONBLOCK is set on the (shared) open file description."""
    return bool(fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK)


def clear_nonblock(sock):
    """Clear O_NONBLOCK on the description sockd shares with us, behind
    the back of Python's socket object."""
    fd = sock.fileno()
    fcntl.fcntl(fd, fcntl.F_SETFL,
                fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)


def set_nonblock(sock):
    fd = sock.fileno()
    fcntl.fcntl(fd, fcntl.F_SETFL,
                fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def tcp_state(sock):
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def full_listener():
    """A TCP listener with backlog 0 whose accept queue is full, so that
    the kernel drops the SYNs of every new connect: (listener, fillers)."""
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    fillers = []
    for _ in range(8):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(lst.getsockname())
        fillers.append(s)
        _, w, _ = select.select([], [s], [], 0.5)
        if not w:
            return lst, fillers
    for s in fillers + [lst]:
        s.close()
    pytest.fail("the listener's accept queue never filled: every connect "
                "completed")


def pipeline(c, calls, timeout):
    """Send every (method, params) of calls on c at once (from a thread,
    since sockd stops reading a client that does not read its replies)
    and read the replies until timeout: the replies that came."""
    data = b"".join(call_message(m, p) for m, p in calls)
    sender = threading.Thread(target=lambda: c.send_raw(data), daemon=True)
    sender.start()
    deadline = time.monotonic() + timeout
    replies = []
    while len(replies) < len(calls):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            replies.append(c.recv_msg(timeout=left))
        except TimeoutError:
            break
    sender.join(max(0.0, deadline - time.monotonic()) + 1)
    return replies


def read_reply(sock):
    """One varlink reply, a byte at a time so nothing behind it is
    taken."""
    buf = b""
    while not buf.endswith(b"\0"):
        b = sock.recv(1)
        assert b, f"connection closed after {buf!r}"
        buf += b
    return json.loads(buf[:-1])


def linger(onoff, seconds):
    return b64(struct.pack("ii", onoff, seconds))


# -- 1. a FileNo holder clears O_NONBLOCK -------------------------------------

def test_fileno_holder_cannot_freeze_a_timed_out_connect(sockd):
    """Issue 10 item 1a: connect after the deadline. A root handle with a
    1 s timeout connects to a listener whose accept queue is full (its
    SYNs are dropped, TCP_SYNCNT 10 keeps it trying for half an hour);
    its FileNo holder clears O_NONBLOCK on the shared file while the
    Connect waits. When the timeout passes, sockd must answer Timeout,
    not make a connect(2) that now blocks the whole daemon."""
    c = sockd.client()
    lst, fillers = full_listener()
    dup = None
    try:
        h = new_socket(c)
        c.call("io.sockd.SetSockOpt", {"handle": h, "level": "IPPROTO_TCP",
                                       "option": "TCP_SYNCNT", "value": 10})
        dup = fileno_share(c, h)
        c.call("io.sockd.SetTimeout", {"handle": h, "timeout": 1.0})
        with Bystander(sockd) as b:
            t0 = time.monotonic()
            c.send_call("io.sockd.Connect", {
                "handle": h,
                "address": inet_addr("127.0.0.1", lst.getsockname()[1])})
            # Once sockd's own connect is under way (it made the file
            # non-blocking for it), take O_NONBLOCK away.
            wait_until(lambda: tcp_state(dup) == TCP_SYN_SENT or
                       c.pending(), 2.0, what="sockd's connect to start")
            clear_nonblock(dup)
            try:
                msg = c.recv_msg(timeout=max(0.1, t0 + 5.0 -
                                             time.monotonic()))
            except TimeoutError:
                pytest.fail("no reply to a Connect with a 1 s timeout "
                            "within 5 s after its FileNo holder cleared "
                            "O_NONBLOCK")
            took = time.monotonic() - t0
            assert msg.get("error") == "io.sockd.Timeout", \
                f"Connect to a full listener answered {msg!r}"
            assert took < 5.0, f"Timeout came after {took:.2f} s"
            b.hold(3.0)
    finally:
        for s in fillers + [lst]:
            s.close()
        if dup is not None:
            dup.close()


def test_fileno_holder_cannot_freeze_an_attach_relay(sockd):
    """Issue 10 item 1b: the Attach relay. A root handle connected to a
    peer is attached (upgrade) on another connection; its FileNo holder
    clears O_NONBLOCK on the shared file once the relay runs. The relay
    must still carry the peer's byte, and never block the daemon reading
    the socket."""
    c = sockd.client()
    h, peer = d_connected(c)
    dup = fileno_share(c, h)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # Cleared now, so that sockd setting it again shows when the
        # relay has taken the socket over.
        clear_nonblock(dup)
        with Bystander(sockd) as b:
            s.settimeout(5)
            s.connect(sockd.path)
            s.sendall(call_message("io.sockd.Attach", {"handle": h},
                                   upgrade=True))
            reply = read_reply(s)
            assert "error" not in reply, reply
            deadline = time.monotonic() + 1.0
            while not nonblocking(dup) and time.monotonic() < deadline:
                time.sleep(0.01)
            clear_nonblock(dup)
            peer.sendall(b"x")
            s.settimeout(2.0)
            try:
                got = s.recv(1)
            except socket.timeout:
                got = None
            assert got == b"x", \
                (f"the attached connection got {got!r} instead of b'x' "
                 f"within 2 s of the peer sending it")
            b.hold(2.0)
    finally:
        s.close()
        peer.close()
        dup.close()


FLIPPER = r"""
import fcntl, os, sys
fd = int(sys.argv[1])
fl = fcntl.fcntl(fd, fcntl.F_GETFL)
on, off = fl | os.O_NONBLOCK, fl & ~os.O_NONBLOCK
sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    fcntl.fcntl(fd, fcntl.F_SETFL, off)
    fcntl.fcntl(fd, fcntl.F_SETFL, on)
"""


def test_fileno_holder_cannot_freeze_accept(sockd):
    """Issue 10 item 1c: the accept race. A root listening handle with
    timeout 0 is shared through FileNo with a process that turns
    O_NONBLOCK off and on in a tight loop; 2000 pipelined Accepts with
    nobody connecting must each answer EAGAIN at once. sockd setting
    O_NONBLOCK before its accept(2) is no defence: the holder clears it in
    between, and accept blocks the daemon until someone connects."""
    c = sockd.client()
    h, addr = d_listener(c)
    dup = fileno_share(c, h)
    c.call("io.sockd.SetTimeout", {"handle": h, "timeout": 0})
    flipper = subprocess.Popen([PYTHON, "-c", FLIPPER, str(dup.fileno())],
                               pass_fds=[dup.fileno()],
                               stdout=subprocess.PIPE)
    # The race is there to be won only while sockd and the flipper run at
    # the same time: keep them on different CPUs.
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        os.sched_setaffinity(sockd.proc.pid, {cpus[0]})
        os.sched_setaffinity(flipper.pid, {cpus[1]})
    n = 2000
    try:
        r, _, _ = select.select([flipper.stdout], [], [], 10)
        assert r and flipper.stdout.readline() == b"ready\n", \
            "the O_NONBLOCK flipper did not start"
        with Bystander(sockd):
            t0 = time.monotonic()
            replies = pipeline(c, [("io.sockd.Accept", {"handle": h})] * n,
                               10.0)
            took = time.monotonic() - t0
            assert flipper.poll() is None, "the flipper died"
            assert len(replies) == n, \
                (f"only {len(replies)} of {n} Accept replies within 10 s "
                 f"while a FileNo holder flips O_NONBLOCK")
            for i, msg in enumerate(replies):
                try:
                    Client.result(msg)
                except VarlinkError as e:
                    check_oserror(e, errno.EAGAIN)
                else:
                    pytest.fail(f"Accept #{i + 1} with nobody connecting "
                                f"succeeded: {msg!r}")
            assert took < 10.0
    finally:
        flipper.kill()
        flipper.wait()
        flipper.stdout.close()
        # A connect ends an accept that blocks (if one does).
        set_nonblock(dup)
        dup.close()
        for _ in range(2):
            try:
                socket.create_connection((addr["host"], addr["port"]),
                                         timeout=1).close()
            except OSError:
                pass


# -- 2. calls that spin the loop ----------------------------------------------

def test_recv_peek_waitall_does_not_spin(sockd):
    """Issue 10 item 2: one Recv spinning the loop. Recv with MSG_PEEK |
    MSG_WAITALL and a huge bufsize on a blocking handle whose peer sent
    one byte: peeking again never consumes anything, so gathering "all of
    it" peeks the same byte over and over without parking. It must
    answer the byte at once, cheaply, with the daemon serving others."""
    c = sockd.client()
    h, peer = d_connected(c)
    pid = sockd.proc.pid
    try:
        peer.sendall(b"a")
        ready = c.call("io.sockd.Poll", {
            "items": [{"handle": h, "events": ["POLLIN"]}], "timeout": 5.0})
        assert ready["items"], "the peer's byte never arrived"
        with Bystander(sockd):
            cpu0 = cpu_seconds(pid)
            t0 = time.monotonic()
            c.send_call("io.sockd.Recv", {
                "handle": h, "bufsize": 100000000,
                "flags": ["MSG_PEEK", "MSG_WAITALL"]})
            try:
                msg = c.recv_msg(timeout=2.0)
            except TimeoutError:
                msg = None
            took = time.monotonic() - t0
            cpu = cpu_seconds(pid) - cpu0
            problems = []
            if msg is None:
                problems.append("no reply to Recv MSG_PEEK|MSG_WAITALL "
                                "within 2 s")
            else:
                try:
                    data = unb64(Client.result(msg)["data"])
                except VarlinkError as e:
                    data = e
                if data != b"a":
                    problems.append(
                        f"Recv MSG_PEEK|MSG_WAITALL answered "
                        f"{data[:20]!r}... ({len(data)} bytes) after "
                        f"{took:.2f} s, not b'a'"
                        if isinstance(data, bytes) else
                        f"Recv MSG_PEEK|MSG_WAITALL failed: {data}")
            if cpu >= 0.5:
                problems.append(f"sockd used {cpu:.2f} s of CPU in "
                                f"{took:.2f} s on one Recv")
            assert not problems, "\n".join(problems)
    finally:
        peer.close()


def test_poll_for_pollpri_does_not_spin(sockd):
    """Issue 10 item 2 (sibling): Poll spinning the loop. Poll for
    POLLPRI on a socket holding ordinary data: the socket is readable,
    so a wait on readability wakes at once, finds no POLLPRI and waits
    again, without end. The Poll must sleep its 2 s out cheaply."""
    c = sockd.client()
    h, peer = d_connected(c)
    pid = sockd.proc.pid
    try:
        peer.sendall(b"zz")
        ready = c.call("io.sockd.Poll", {
            "items": [{"handle": h, "events": ["POLLIN"]}], "timeout": 5.0})
        assert ready["items"], "the peer's data never arrived"
        cpu0 = cpu_seconds(pid)
        t0 = time.monotonic()
        c.send_call("io.sockd.Poll", {
            "items": [{"handle": h, "events": ["POLLPRI"]}],
            "timeout": 2.0})
        try:
            reply = Client.result(c.recv_msg(timeout=5.0))
        except TimeoutError:
            reply = None
        except VarlinkError as e:
            reply = e
        took = time.monotonic() - t0
        cpu = cpu_seconds(pid) - cpu0
        problems = []
        if reply is None:
            problems.append("no reply to Poll for POLLPRI with timeout "
                            "2.0 within 5 s")
        elif reply != {"items": []}:
            problems.append(f"Poll for POLLPRI answered {reply!r}")
        elif took < 1.5:
            problems.append(f"Poll with timeout 2.0 answered after "
                            f"{took:.2f} s")
        if cpu >= 0.3:
            problems.append(f"sockd used {cpu:.2f} s of CPU during a "
                            f"{took:.2f} s Poll for POLLPRI")
        assert not problems, "\n".join(problems)
    finally:
        peer.close()


# -- 8. lingering closes ------------------------------------------------------

# The client of uid LINGERER: one JSON request per line on stdin, one JSON
# answer per line on stdout.
LINGER_AGENT = r"""
import base64, json, struct, sys, time
sys.path.insert(0, sys.argv[2])
from varlink import Client, VarlinkError, call_message
c = Client(sys.argv[1])

def outcome(msg):
    try:
        return {"ok": Client.result(msg)}
    except VarlinkError as e:
        return {"error": e.error, "parameters": e.params}

def call(method, params):
    c.send_call(method, params)
    return outcome(c.recv_msg())

def timed(req):
    t0 = time.monotonic()
    res = call(req["method"], req["params"])
    res["seconds"] = time.monotonic() - t0
    return res

def fill(req):
    # Send until the socket takes no more (timeout 0: EAGAIN).
    h = req["handle"]
    res = call("io.sockd.SetTimeout", {"handle": h, "timeout": 0})
    if "ok" not in res:
        return res
    data = base64.b64encode(b"\0" * 262144).decode()
    sent = 0
    for _ in range(400):
        res = call("io.sockd.Send", {"handle": h, "data": data})
        if "ok" not in res:
            res["sent"] = sent
            return res
        sent += res["ok"]["sent"]
    return {"sent": sent, "full": False}

def churn(req):
    # n times Socket, SetSockOpt SO_LINGER {1, 1}, Close, pipelined a few
    # at a time (the quota allows group live handles).
    n, group = req["n"], req["group"]
    lin = base64.b64encode(struct.pack("ii", 1, 1)).decode()
    done, calls, failures = 0, 0, []
    handles = []
    t0 = time.monotonic()
    while done < n or handles:
        batch = []
        for h in handles:
            batch.append(("io.sockd.SetSockOpt", {
                "handle": h, "level": "SOL_SOCKET", "option": "SO_LINGER",
                "data": lin}))
            batch.append(("io.sockd.Close", {"handle": h}))
        k = min(group, n - done)
        batch += [("io.sockd.Socket", {"family": "AF_INET",
                                       "type": "SOCK_STREAM"})] * k
        done += k
        c.send_raw(b"".join(call_message(m, p) for m, p in batch))
        handles = []
        for m, p in batch:
            res = outcome(c.recv_msg())
            calls += 1
            if "ok" not in res:
                failures.append([m, p, res])
            elif m == "io.sockd.Socket":
                handles.append(res["ok"]["handle"])
        if len(failures) > 10:
            break
    return {"calls": calls, "failures": failures,
            "seconds": time.monotonic() - t0}

OPS = {"call": lambda r: call(r["method"], r["params"]), "timed": timed,
       "fill": fill, "churn": churn}
for line in sys.stdin:
    req = json.loads(line)
    try:
        res = OPS[req["op"]](req)
    except Exception as e:
        res = {"exception": "%s: %s" % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()
"""


class LingerAgent:
    """LINGER_AGENT running as uid."""

    def __init__(self, daemon, uid):
        self.uid = uid
        self.proc = subprocess.Popen(
            [*setpriv(uid), PYTHON, "-u", "-c", LINGER_AGENT, daemon.path,
             TESTS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)

    def request(self, timeout=15.0, **req):
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            raise AssertionError(f"uid {self.uid}: no answer to {req} "
                                 f"within {timeout} s")
        line = self.proc.stdout.readline()
        if not line:
            self.proc.kill()
            raise AssertionError(f"uid {self.uid}: client died: "
                                 f"{self.proc.stderr.read().decode()}")
        res = json.loads(line)
        assert "exception" not in res, f"uid {self.uid}: {req}: {res}"
        return res

    def call(self, method, params):
        return self.request(op="call", method="io.sockd." + method,
                            params=params)

    def ok(self, method, params):
        res = self.call(method, params)
        assert "ok" in res, f"uid {self.uid}: {method} {params}: {res}"
        return res["ok"]

    def close(self):
        stop_process(self.proc)


def test_lingering_closes_cannot_wedge_sockd(start_sockd, tmpdir_short):
    """Issue 10 item 8: lingering closes. uid 1501 (max_handles 4) asks
    for a linger time of 2**31-1 s, wedges a close on a peer that reads
    nothing with SO_LINGER {1, 60}, then opens, lingers and closes 3000
    sockets. sockd must refuse lingers above --max-linger, answer every
    Close at once, keep no descriptor of a closed socket waiting behind
    another's linger, and let root's own lingering close (of a socket
    whose data is delivered) finish at once."""
    policy = os.path.join(tmpdir_short, "policy.json")
    write_policy(policy, [{
        "name": "lingerer", "users": [LINGERER],
        "families": ["AF_INET"], "types": ["SOCK_STREAM"],
        "connect": ["127.0.0.1"], "max_handles": 4}])
    d = start_sockd("--policy", policy)
    pid = d.proc.pid
    agent = LingerAgent(d, LINGERER)
    lst = py_listener()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sink = root_peer = None
    problems = []
    try:
        # A linger time beyond --max-linger is refused.
        h = agent.ok("Socket", {"family": "AF_INET",
                                "type": "SOCK_STREAM"})["handle"]
        res = agent.call("SetSockOpt", {
            "handle": h, "level": "SOL_SOCKET", "option": "SO_LINGER",
            "data": linger(1, 2**31 - 1)})
        if res.get("error") != "io.sockd.OSError" or \
                res["parameters"].get("errno") != errno.EINVAL or \
                "--max-linger" not in res["parameters"].get("message", ""):
            problems.append(f"SO_LINGER {{1, 2**31-1}} answered {res} "
                            f"(expected OSError EINVAL naming --max-linger)")
        agent.ok("Close", {"handle": h})

        # The wedge: a socket full of data its peer never reads, closed
        # with a 60 s linger.
        h = agent.ok("Socket", {"family": "AF_INET",
                                "type": "SOCK_STREAM"})["handle"]
        agent.ok("Connect", {"handle": h, "address": inet_addr(
            "127.0.0.1", lst.getsockname()[1])})
        sink, _ = lst.accept()
        res = agent.request(op="fill", handle=h)
        assert res.get("error") == "io.sockd.OSError" and \
            res["parameters"]["errno"] == errno.EAGAIN, \
            f"filling the socket: {res}"
        agent.ok("SetSockOpt", {"handle": h, "level": "SOL_SOCKET",
                                "option": "SO_LINGER",
                                "data": linger(1, 60)})
        res = agent.request(op="timed", method="io.sockd.Close",
                            params={"handle": h})
        if "ok" not in res or res["seconds"] >= 1.0:
            problems.append(f"Close of the wedged socket answered {res}")

        # 3000 lingering closes of sockets with nothing to send.
        before = open_fds(pid)
        res = agent.request(op="churn", n=3000, group=4, timeout=30.0)
        if res["failures"] or res["calls"] != 9000:
            problems.append(f"of 3000 x Socket, SO_LINGER {{1, 1}}, Close "
                            f"(max_handles 4), {res['calls']} calls made, "
                            f"failures: {res['failures'][:3]}")
        limit = before + 50
        deadline = time.monotonic() + 2.0
        while open_fds(pid) >= limit and time.monotonic() < deadline:
            time.sleep(0.05)
        after = open_fds(pid)
        if after >= limit:
            problems.append(f"sockd holds {after} fds after 3000 closes, "
                            f"{before} before them: closed sockets pile up")

        # Meanwhile root: a lingering close of a socket whose data is
        # delivered ends at once, whatever uid 1501's sockets do.
        c = d.client()
        rh, root_peer = d_connected(c)
        c.call("io.sockd.SetSockOpt", {"handle": rh, "level": "SOL_SOCKET",
                                       "option": "SO_LINGER",
                                       "data": linger(1, 10)})
        c.call("io.sockd.SendAll", {"handle": rh, "data": b64(b"data")})
        t0 = time.monotonic()
        c.call("io.sockd.Close", {"handle": rh}, timeout=2.0)
        try:
            got = recv_exact_py(root_peer, 4, timeout=2.0)
        except socket.timeout:
            got = b""
        eof = got == b"data" and \
            peer_eof(root_peer, max(0.01, t0 + 2.0 - time.monotonic()))
        if got != b"data" or not eof:
            problems.append(f"root's peer got {got!r} and "
                            f"{'EOF' if eof else 'no EOF'} within 2 s of "
                            f"root's lingering Close")
        assert not problems, "\n".join(problems)
    finally:
        agent.close()
        for s in (sink, root_peer, lst):
            if s is not None:
                s.close()
