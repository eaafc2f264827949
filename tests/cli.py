"""Running the sockc command line against a test daemon.

The sockc binary lives next to the daemon under test:
<builddir>/client/sockc, where builddir = dirname(dirname($SOCKD)), so an
ASan build of sockd is driven by the ASan build of sockc.
"""
import os
import subprocess

from conftest import REPO, SANITIZER_MARKS, SOCKD

BUILDDIR = os.path.dirname(os.path.dirname(os.path.abspath(SOCKD)))
SOCKC = os.path.join(BUILDDIR, "client", "sockc")
COMPLETION = os.path.join(REPO, "contrib", "bash-completion", "sockc")
CONFIGURE_AC = os.path.join(REPO, "configure.ac")
RUN_TIMEOUT = 20.0

# Exit statuses (DESIGN.md, "Command line").
OK, FAILED, USAGE, DAEMON = 0, 1, 2, 3


def check_sanitizer(err, what="sockc"):
    """Fail on a sanitizer report in sockc's own stderr."""
    text = err if isinstance(err, str) else err.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in text, f"sanitizer report from {what}:\n{text}"


def sockc_env(socket_path=None, extra=None):
    env = dict(os.environ)
    env.pop("SOCKD_SOCKET", None)
    for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        env.pop(k, None)
    if socket_path is not None:
        env["SOCKD_SOCKET"] = socket_path
    if extra:
        env.update(extra)
    return env


def _path_of(target):
    if target is None or isinstance(target, str):
        return target
    return target.path          # a conftest.Daemon


def sockc(target, *args, input=None, timeout=RUN_TIMEOUT, env=None):
    """Run sockc with SOCKD_SOCKET set to target's socket (a Daemon or a
    path; None leaves SOCKD_SOCKET unset). input is bytes for stdin
    (default: /dev/null). Returns (rc, stdout bytes, stderr text)."""
    assert os.path.exists(SOCKC), f"sockc binary {SOCKC} does not exist"
    argv = [SOCKC] + [str(a) for a in args]
    p = subprocess.run(argv, input=input,
                       stdin=subprocess.DEVNULL if input is None else None,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=sockc_env(_path_of(target), env),
                       timeout=timeout, close_fds=True)
    err = p.stderr.decode("utf-8", "replace")
    check_sanitizer(err, " ".join(argv))
    return p.returncode, p.stdout, err


def sockc_popen(target, *args, **kw):
    """Start sockc in the background (pipes for stdin/stdout/stderr)."""
    assert os.path.exists(SOCKC), f"sockc binary {SOCKC} does not exist"
    argv = [SOCKC] + [str(a) for a in args]
    return subprocess.Popen(argv, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=sockc_env(_path_of(target)), close_fds=True,
                            **kw)


def ok(target, *args, **kw):
    """sockc must succeed with nothing on stderr; returns stdout bytes."""
    rc, out, err = sockc(target, *args, **kw)
    assert rc == OK, f"sockc {' '.join(map(str, args))}: exit {rc}, " \
                     f"stderr {err!r}"
    assert err == "", f"sockc {args}: unexpected stderr {err!r}"
    return out


def ok_text(target, *args, **kw):
    return ok(target, *args, **kw).decode("utf-8")


def ok_json(target, *args, **kw):
    """--json: stdout is exactly one line holding one JSON object."""
    import json
    out = ok(target, "--json", *args, **kw)
    assert out.endswith(b"\n") and out.count(b"\n") == 1, \
        f"--json {args}: not one line: {out!r}"
    obj = json.loads(out)
    assert isinstance(obj, dict), f"--json {args}: not an object: {obj!r}"
    return obj


def fails(target, status, *args, **kw):
    """sockc must exit with status and print nothing on stdout; returns
    stderr."""
    rc, out, err = sockc(target, *args, **kw)
    assert rc == status, f"sockc {' '.join(map(str, args))}: exit {rc}, " \
                         f"expected {status}; stderr {err!r}"
    assert out == b"", f"sockc {args}: stdout {out!r} on failure"
    assert err.startswith("sockc: "), f"stderr {err!r}"
    return err


def handle(target, *args):
    """sockc socket ARGS: the handle number it printed (and only that)."""
    out = ok_text(target, "socket", *args)
    assert out.endswith("\n") and out.strip().isdigit(), \
        f"socket printed {out!r}, not just a handle number"
    return int(out)


def inet_text(host, port):
    """An address the way sockc's command line spells it."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def ac_init_version():
    """The version of configure.ac's AC_INIT([name], [version], ...)."""
    import re
    with open(CONFIGURE_AC, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"AC_INIT\(\s*\[?[^],]*\]?\s*,\s*\[?([^],\s]+)\]?", text)
    assert m, "no AC_INIT in configure.ac"
    return m.group(1)
