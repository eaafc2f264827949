"""A harness that plays the service manager for sockd, without systemd.

It owns a notify socket and an fd store: FDSTORE=1 datagrams add their fds
under their FDNAME=, FDSTOREREMOVE=1 drops (and closes) every fd of that
name, as systemd does. start() runs sockd with the stored fds passed the
way systemd passes them (fds 3.., LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID)
and with RUNTIME_DIRECTORY set; restart() is stop() then start().
"""
import fcntl
import os
import signal
import subprocess

from conftest import SANITIZER_MARKS, SOCKD, START_DEADLINE, STOP_DEADLINE
from notify import NotifyListener
from varlink import Client


class Manager:
    def __init__(self, tmpdir, args=(), env=None):
        self.tmpdir = tmpdir
        self.path = os.path.join(tmpdir, "sockd.sock")
        self.runtime = os.path.join(tmpdir, "run")
        os.mkdir(self.runtime, 0o755)
        self.args = list(args)
        self.env = dict(env or {})
        self.notify = NotifyListener(os.path.join(tmpdir, "notify"),
                                     keep_fds=True)
        self.store = []       # [fdname, fd], in the order stored
        self.seen = 0         # notifications already applied to the store
        self.proc = None
        self.starts = 0
        self.clients = []
        self.stderr_path = None

    # -- the fd store --------------------------------------------------

    def sync(self):
        """Apply the notifications received so far to the fd store."""
        msgs = self.notify.snapshot()
        for n in msgs[self.seen:]:
            if n.fields.get("FDSTORE") == "1":
                name = n.fields.get("FDNAME", "stored")
                self.store.extend([name, fd] for fd in n.fds)
            else:
                for fd in n.fds:
                    os.close(fd)
            if n.fields.get("FDSTOREREMOVE") == "1":
                name = n.fields.get("FDNAME")
                for entry in [e for e in self.store if e[0] == name]:
                    os.close(entry[1])
                    self.store.remove(entry)
        self.seen = len(msgs)

    def stored_names(self):
        self.sync()
        return [name for name, _ in self.store]

    # -- the service ---------------------------------------------------

    def start(self, extra=(), expect_ready=True):
        """Start sockd with the stored fds, then the (name, fd) pairs in
        extra, passed as LISTEN_FDS; wait for READY=1."""
        self.sync()
        passed = [(name, fd) for name, fd in self.store] + list(extra)
        env = dict(os.environ)
        for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                  "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(k, None)
        env["NOTIFY_SOCKET"] = self.notify.path
        env["RUNTIME_DIRECTORY"] = self.runtime
        env.update(self.env)
        if passed:
            env["LISTEN_FDS"] = str(len(passed))
            env["LISTEN_FDNAMES"] = ":".join(name for name, _ in passed)
        fds = [fd for _, fd in passed]

        def arrange():
            # Two steps, so that no source is overwritten before use.
            tmp = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for fd in fds]
            for i, t in enumerate(tmp):
                os.dup2(t, 3 + i)
                os.close(t)

        self.starts += 1
        self.stderr_path = os.path.join(self.tmpdir,
                                        f"stderr.{self.starts}")
        since = len(self.notify.snapshot())
        # LISTEN_PID is the pid of sockd itself: sh sets it, then execs.
        argv = ["/bin/sh", "-c",
                'if [ -n "$LISTEN_FDS" ]; then LISTEN_PID=$$; '
                'export LISTEN_PID; fi; exec "$@"', "sh",
                SOCKD, "--socket", self.path, *self.args]
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, env=env,
                                         preexec_fn=arrange, close_fds=False)
        if expect_ready:
            try:
                self.notify.wait_line("READY=1", START_DEADLINE, since)
            except AssertionError:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"no READY=1:\n{self.stderr()}")
        return self.proc

    def stop(self, sig=signal.SIGTERM):
        """Stop sockd with sig; return its exit status."""
        for c in self.clients:
            c.close()
        self.clients = []
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "no exit"
        self.proc = None
        if sig == signal.SIGTERM:
            self.notify.wait_line("STOPPING=1", 5)
        self.sync()
        return rc

    def restart(self):
        rc = self.stop()
        assert rc == 0, f"exit status {rc}:\n{self.stderr()}"
        assert self.sanitizer_report() is None, self.stderr()
        return self.start()

    def client(self):
        c = Client(self.path)
        self.clients.append(c)
        return c

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def sanitizer_report(self):
        text = self.stderr()
        return text if any(m in text for m in SANITIZER_MARKS) else None

    def meta_path(self, handle):
        return os.path.join(self.runtime, "handles", f"{handle}.json")

    def close(self):
        """Stop sockd if it runs; return problems found (exit status,
        sanitizer reports)."""
        problems = []
        if self.proc is not None:
            rc = self.stop()
            if rc != 0:
                problems.append(f"sockd exit status {rc}")
        if self.stderr_path and self.sanitizer_report():
            problems.append("sanitizer report:\n" + self.stderr())
        self.sync()
        for _, fd in self.store:
            os.close(fd)
        self.store = []
        self.notify.close()
        return problems
