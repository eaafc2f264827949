"""The harness: every test starts its own sockd on a private socket.

SOCKD names the binary (default: <repo>/build/daemon/sockd). The daemon runs
as `sockd --socket TMP/sockd.sock [ARGS]` with NOTIFY_SOCKET=TMP/notify, and
the fixture waits for READY=1. At teardown it sends SIGTERM and requires a
clean exit (status 0, socket file removed, no sanitizer report on stderr).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from notify import NotifyListener  # noqa: E402
from varlink import Client  # noqa: E402
# A fixture: agents(daemon, uid, ...) runs clients as other uids.
from agent import agents  # noqa: E402,F401

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
SOCKD = os.environ.get("SOCKD") or os.path.join(REPO, "build", "daemon",
                                                 "sockd")
IDL = os.path.join(REPO, "proto", "io.sockd.varlink")
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
START_DEADLINE = 10.0
STOP_DEADLINE = 10.0

os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")


class Daemon:
    """One running sockd."""

    def __init__(self, tmpdir, args=(), env=None, prefix=(),
                 socket_name="sockd.sock"):
        self.tmpdir = tmpdir
        self.path = os.path.join(tmpdir, socket_name)
        self.args = list(args)
        self.notify_path = os.path.join(tmpdir, "notify")
        self.stderr_path = os.path.join(tmpdir, "stderr")
        self.clients = []
        self.returncode = None
        self.notify = NotifyListener(self.notify_path)

        full_env = dict(os.environ)
        full_env.pop("LISTEN_FDS", None)
        full_env.pop("LISTEN_PID", None)
        full_env.pop("WATCHDOG_USEC", None)
        full_env.pop("RUNTIME_DIRECTORY", None)
        full_env["NOTIFY_SOCKET"] = self.notify_path
        if env:
            full_env.update(env)
        if not os.path.exists(SOCKD):
            pytest.fail(f"sockd binary {SOCKD} does not exist (set SOCKD)")
        self.argv = list(prefix) + [SOCKD, "--socket", self.path] + self.args
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err,
                                         env=full_env, close_fds=True)
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.ready():
                break
            if self.proc.poll() is not None:
                pytest.fail(f"sockd exited with {self.proc.returncode} "
                            f"before READY=1:\n{self.stderr()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"no READY=1 from sockd within "
                            f"{START_DEADLINE} s:\n{self.stderr()}")
            self.notify.wait_count(len(self.notify.snapshot()) + 1, 0.05)
        assert os.path.exists(self.path), \
            "READY=1 sent before the socket exists"

    @property
    def notifications(self):
        """The texts of the notify datagrams so far."""
        return self.notify.texts()

    def notified(self, line):
        """True when a notify datagram contained the line line."""
        return self.notify.has_line(line)

    def ready(self):
        return self.notified("READY=1")

    def client(self, **kw):
        c = Client(self.path, **kw)
        self.clients.append(c)
        return c

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def sanitizer_report(self):
        text = self.stderr()
        if any(m in text for m in SANITIZER_MARKS):
            return text
        return None

    def stop(self, close_clients=True):
        """SIGTERM, wait, and return the exit status."""
        if self.returncode is not None:
            return self.returncode
        if close_clients:
            for c in self.clients:
                c.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.returncode = "no exit within %s s of SIGTERM" % \
                STOP_DEADLINE
        for c in self.clients:
            c.close()
        self.notify.close()
        return self.returncode

    def check_stopped(self):
        """The checks every test ends with; returns a list of problems."""
        problems = []
        rc = self.stop()
        if rc != 0:
            problems.append(f"sockd exit status {rc} (expected 0)")
        if os.path.lexists(self.path):
            problems.append(f"socket {self.path} not removed at exit")
        report = self.sanitizer_report()
        if report:
            problems.append("sanitizer report on stderr")
        if problems:
            problems.append("sockd stderr:\n" + self.stderr()[-20000:])
        return problems


def make_tmpdir(prefix="sockd-"):
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d


@pytest.fixture
def tmpdir_short():
    """A private directory with a short path (sun_path is 108 bytes)."""
    d = make_tmpdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def start_sockd():
    """Factory: start_sockd(*args, env=None, prefix=(), tmpdir=None)."""
    daemons = []
    dirs = []

    def start(*args, env=None, prefix=(), tmpdir=None):
        if tmpdir is None:
            tmpdir = make_tmpdir()
            dirs.append(tmpdir)
        d = Daemon(tmpdir, args, env=env, prefix=prefix)
        daemons.append(d)
        return d

    yield start
    problems = []
    for d in daemons:
        problems.extend(d.check_stopped())
    for t in dirs:
        shutil.rmtree(t, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def sockd(start_sockd):
    return start_sockd()
