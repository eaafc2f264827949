"""Clients running as other uids, for the policy and attack tests.

An Agent is a /usr/bin/python3 process started under `setpriv --reuid=UID
--regid=GID` (no supplementary groups unless given) that reads one JSON
request per line on stdin and answers one JSON line:

  {"op": "call", "method", "params", "conn"}  a varlink call on connection
                                              conn (made on first use)
  {"op": "fileno", "handle", "detach", "name", "conn"}  FileNo; the socket
                                              is kept as fds[name]
  {"op": "greeting", "conn", "timeout"}       what a new connection is
                                              told before it asks anything
  {"op": "exec", "code", "vars"}              runs code as that uid; its
                                              `result` is the answer

Answers are {"ok": ...}, {"error", "parameters"} for a varlink error,
{"closed": ...} when sockd closed the connection, or {"exception": ...}.
"""
import errno
import json
import os
import select
import subprocess
import time

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
SETPRIV = "/usr/bin/setpriv"
AGENT_DEADLINE = 15.0

AGENT = r"""
import base64, json, os, socket, sys
sys.path.insert(0, sys.argv[2])
from varlink import Client, ConnectionClosed, VarlinkError, call_message, \
    encode
PATH = sys.argv[1]
conns, fds = {}, {}

def conn(k=0):
    if k not in conns:
        conns[k] = Client(PATH)
    return conns[k]

def describe(s):
    return {"family": s.family.name, "type": s.type.name,
            "local": list(s.getsockname()) if s.family != socket.AF_UNIX
            else s.getsockname()}

def read_reply(s):
    # One reply read a byte at a time from a raw socket s.
    buf = b""
    while not buf.endswith(b"\0"):
        b = s.recv(1)
        if not b:
            return {"closed": buf.decode("utf-8", "replace")}
        buf += b
    return json.loads(buf[:-1])

def handle(req):
    op = req["op"]
    if op == "call":
        return {"ok": conn(req.get("conn", 0)).call(req["method"],
                                                    req.get("params"))}
    if op == "fileno":
        params = {"handle": req["handle"]}
        if req.get("detach") is not None:
            params["detach"] = req["detach"]
        res, got = conn(req.get("conn", 0)).call_fds("io.sockd.FileNo",
                                                      params)
        assert len(got) == 1, got
        s = socket.socket(fileno=got[0])
        fds[req.get("name", "fd")] = s
        return {"ok": res, "fd": describe(s)}
    if op == "greeting":
        return {"ok": conn(req["conn"]).recv_msg(timeout=req["timeout"])}
    if op == "exec":
        ns = {"PATH": PATH, "conn": conn, "fds": fds, "socket": socket,
              "os": os, "json": json, "call_message": call_message,
              "encode": encode, "read_reply": read_reply,
              "b64": lambda b: base64.b64encode(b).decode(),
              "unb64": lambda t: base64.b64decode(t), "result": None}
        ns.update(req.get("vars", {}))
        exec(req["code"], ns)
        return {"ok": ns["result"]}
    raise ValueError("unknown op " + op)

for line in sys.stdin:
    req = json.loads(line)
    try:
        res = handle(req)
    except VarlinkError as e:
        res = {"error": e.error, "parameters": e.params}
    except ConnectionClosed as e:
        res = {"closed": str(e)}
    except Exception as e:
        res = {"exception": "%s: %s" % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()
"""


def stop_process(proc):
    """Close a client process's stdin (it ends), wait, and close its pipes;
    kill it if it does not end within 10 s."""
    if proc.poll() is None:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for f in (proc.stdin, proc.stdout, proc.stderr):
        try:
            f.close()
        except OSError:
            pass


def log_lines(d, *words):
    """The daemon's log lines that contain every word."""
    return [ln for ln in d.stderr().splitlines()
            if all(w in ln for w in words)]


def check_eacces(res, rule, what=""):
    """res must be OSError EACCES naming rule (None: the default policy);
    returns the message."""
    assert res.get("error") == "io.sockd.OSError", f"{what}: {res}"
    p = res["parameters"]
    assert p["errno"] == errno.EACCES and p["name"] == "EACCES", \
        f"{what}: {res}"
    msg = p["message"]
    if rule is None:
        assert "default policy" in msg, f"{what}: {msg}"
    else:
        assert f'"{rule}"' in msg, f"{what}: rule {rule} not in {msg!r}"
    return msg


def write_policy(path, rules):
    """A policy file of rules (a list of dicts), replaced whole."""
    with open(path + ".new", "w") as f:
        json.dump({"rules": rules}, f, indent=2)
    os.chmod(path + ".new", 0o644)
    os.replace(path + ".new", path)


class Agent:
    """A client process running as another uid (see above)."""

    def __init__(self, daemon, uid, gid=None, groups=(), prefix=(),
                 deadline=AGENT_DEADLINE):
        self.daemon = daemon
        self.uid = uid
        self.deadline = deadline
        argv = list(prefix) + [SETPRIV, f"--reuid={uid}",
                               f"--regid={uid if gid is None else gid}"]
        if groups:
            argv.append("--groups=" + ",".join(str(g) for g in groups))
        else:
            argv.append("--clear-groups")
        argv += [PYTHON, "-u", "-c", AGENT, daemon.path, TESTS]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.buf = b""

    def request(self, req):
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + self.deadline
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            r, _, _ = select.select([fd], [], [], max(0, left))
            if not r:
                raise AssertionError(f"uid {self.uid}: no answer to {req} "
                                     f"within {self.deadline} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                self.proc.kill()
                err = self.proc.stderr.read().decode(errors="replace")
                raise AssertionError(f"uid {self.uid}: client died: {err}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        res = json.loads(line)
        assert "exception" not in res, f"uid {self.uid}: {req}: {res}"
        return res

    def call(self, method, params=None, conn=0):
        if not method.startswith(("io.", "org.")):
            method = "io.sockd." + method
        return self.request({"op": "call", "method": method,
                             "params": params, "conn": conn})

    def ok(self, method, params=None, conn=0):
        res = self.call(method, params, conn)
        assert "ok" in res, f"uid {self.uid}: {method} {params}: {res}"
        return res["ok"]

    def refused(self, method, params=None, rule=None, conn=0):
        """method must be refused with EACCES naming rule (None: the
        default policy); returns the message."""
        res = self.call(method, params, conn)
        return self.expect_refused(res, rule, f"{method} {params}")

    def expect_refused(self, res, rule=None, what=""):
        """res must be a refusal naming rule, logged with our uid."""
        msg = check_eacces(res, rule, f"uid {self.uid}: {what}")
        prefix = os.strerror(errno.EACCES) + ": "
        assert msg.startswith(prefix), msg
        why = msg[len(prefix):]
        assert log_lines(self.daemon, f"uid {self.uid} ", why), \
            (f"refusal {why!r} of uid {self.uid} not logged:\n"
             f"{self.daemon.stderr()}")
        return msg

    def ebadf(self, method, params=None, conn=0):
        res = self.call(method, params, conn)
        assert res.get("error") == "io.sockd.OSError", res
        assert res["parameters"]["errno"] == errno.EBADF, res
        assert res["parameters"]["name"] == "EBADF", res

    def socket(self, family="AF_INET", type_="SOCK_STREAM", conn=0, **kw):
        h = self.ok("Socket", dict(family=family, type=type_, **kw), conn)
        assert isinstance(h["handle"], int) and h["handle"] > 0, h
        return h["handle"]

    def fileno(self, handle, detach=None, name="fd", conn=0):
        return self.request({"op": "fileno", "handle": handle,
                             "detach": detach, "name": name, "conn": conn})

    def run(self, code, **vars):
        res = self.request({"op": "exec", "code": code, "vars": vars})
        assert "ok" in res, res
        return res["ok"]

    def close(self):
        stop_process(self.proc)


@pytest.fixture
def agents(start_sockd):
    """Factory: agents(daemon, uid, gid=None, groups=(), prefix=()); the
    agents end with the test."""
    made = []

    def make(d, uid, *args, **kw):
        a = Agent(d, uid, *args, **kw)
        made.append(a)
        return a

    yield make
    for a in made:
        a.close()


def expect_errno(res, num, what=""):
    """res (an agent's answer) must be io.sockd.OSError num."""
    assert res.get("error") == "io.sockd.OSError", \
        f"{what}: expected OSError {errno.errorcode[num]}, got {res}"
    assert res["parameters"]["errno"] == num, \
        f"{what}: expected {errno.errorcode[num]}, got {res}"
    assert res["parameters"]["name"] == errno.errorcode[num], res


PLAIN_ERRNO = r"""
s = socket.socket(getattr(socket, family), getattr(socket, type_))
try:
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if op == "bind":
        s.bind(tuple(addr) if family != "AF_UNIX" else addr[0])
    elif op == "connect":
        s.connect(addr[0])
    else:
        s.sendto(b"x", addr[0])
    result = 0
except OSError as e:
    result = e.errno
finally:
    s.close()
"""


def plain_errno(agent, op, family, type_, addr, reuseport=False):
    """The errno the agent's uid gets doing op itself, without sockd."""
    return agent.run(PLAIN_ERRNO, op=op, family=family, type_=type_,
                     addr=list(addr), reuseport=reuseport)
