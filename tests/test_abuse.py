"""Abuse and fault tests against a real daemon: malformed frames, random
calls, a client that never reads, many clients, a client killed in the middle
of a waiting call, a connection flood from one uid, running out of file
descriptors, and a close that would block.

sockd serves processes that may be hostile: no input and no client behaviour
may crash it, make it spin, grow it without bound, or hold up other clients.
Every test here must be able to fail; the only time limits are generous
liveness deadlines (a reply within a few seconds), never speed.

Run with -s to see the figures the tests print (RSS of the slow-reader test,
the mix of replies of the random test).
"""
import base64
import collections
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import socket
import string
import struct
import subprocess
import time

import pytest

from conftest import IDL, TESTS, Daemon, make_tmpdir
from helpers import (PYTHON, connect_refused, d_connected, new_socket,
                     peer_eof, py_listener, run_as)
from varlink import (Client, ConnectionClosed, VarlinkError, call_message,
                     encode, wait_until)

GETINFO = call_message("org.varlink.service.GetInfo")
LIVENESS = 5.0          # seconds: "answered at all", never "answered fast"
PROTOCOL_ERROR = "io.sockd.ProtocolError"

# Every error a reply may name: the IDL's and org.varlink.service's, with
# the parameters each must carry.
KNOWN_ERRORS = {
    "io.sockd.OSError": {"errno": int, "name": str, "message": str},
    "io.sockd.Timeout": {"message": str},
    "io.sockd.GAIError": {"code": int, "name": str, "message": str},
    "io.sockd.HError": {"code": int, "message": str},
    "io.sockd.ProtocolError": {"message": str},
    "org.varlink.service.InterfaceNotFound": {"interface": str},
    "org.varlink.service.MethodNotFound": {"method": str},
    "org.varlink.service.MethodNotImplemented": {"method": str},
    "org.varlink.service.InvalidParameter": {"parameter": str},
    "org.varlink.service.PermissionDenied": {},
    "org.varlink.service.ExpectedMore": {},
    "org.varlink.service.ExpectedUpgrade": {},
}


# -- small helpers ------------------------------------------------------------

def reply_problems(msg, more=False):
    """What is wrong with a reply message (already a parsed JSON object):
    a list of strings, empty when it is well-formed."""
    bad = []
    if not isinstance(msg, dict):
        return [f"reply is not an object: {msg!r}"]
    extra = set(msg) - {"parameters", "error", "continues"}
    if extra:
        bad.append(f"unknown reply fields {sorted(extra)}")
    params = msg.get("parameters")
    if "parameters" in msg and params is not None and \
            not isinstance(params, dict):
        bad.append(f"parameters is not an object: {params!r}")
    if "continues" in msg:
        if not isinstance(msg["continues"], bool):
            bad.append("continues is not a boolean")
        if "error" in msg:
            bad.append("an error reply carries continues")
        elif msg["continues"] and not more:
            bad.append("continues on a reply to a call without more")
    if "error" in msg:
        err = msg["error"]
        if not isinstance(err, str) or not err:
            bad.append(f"error is not a non-empty string: {err!r}")
        elif err not in KNOWN_ERRORS:
            bad.append(f"unknown error {err!r}")
        else:
            p = params if isinstance(params, dict) else {}
            for key, typ in KNOWN_ERRORS[err].items():
                v = p.get(key)
                if not isinstance(v, typ) or isinstance(v, bool):
                    bad.append(f"{err} without a {typ.__name__} {key}: "
                               f"{p!r}")
            if err == "io.sockd.OSError" and isinstance(p.get("errno"), int) \
                    and p["errno"] <= 0:
                bad.append(f"OSError with errno {p['errno']}")
    return bad


def short(obj, limit=300):
    """obj as JSON, cut to limit characters (replies can be 13 kB)."""
    text = json.dumps(obj)
    return text if len(text) <= limit else text[:limit] + "..."


def assert_served(d, what="a new client"):
    """A new connection gets GetInfo answered (within LIVENESS)."""
    assert d.proc.poll() is None, \
        f"sockd died (status {d.proc.returncode}):\n{d.stderr()[-5000:]}"
    with Client(d.path, timeout=LIVENESS) as c:
        try:
            info = c.call("org.varlink.service.GetInfo")
        except (TimeoutError, ConnectionClosed, OSError) as e:
            raise AssertionError(f"{what} is not served: {e!r}") from None
    assert "io.sockd" in info["interfaces"], info


def proc_status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def cpu_seconds(pid):
    """utime + stime of pid, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime and stime are fields 14, 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        new = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert soft >= need, f"RLIMIT_NOFILE {soft} < {need} and cannot be raised"


def close_all(clients):
    for c in clients:
        c.close()


# -- a daemon shared by many short tests --------------------------------------

class SharedDaemons:
    """One sockd for many short tests (each daemon costs the harness about
    0.1 s to stop). A test that kills it, or makes it report a sanitizer
    error, fails on its own, and the next test gets a fresh daemon."""

    def __init__(self):
        self.daemon = None
        self.dirs = []
        self.serial = 0

    def get(self):
        if self.daemon is None:
            tmp = make_tmpdir()
            self.dirs.append(tmp)
            self.daemon = Daemon(tmp)
        return self.daemon

    def retire(self):
        problems = self.daemon.check_stopped()
        self.daemon = None
        return problems


@pytest.fixture(scope="module")
def shared_pool():
    pool = SharedDaemons()
    yield pool
    problems = pool.retire() if pool.daemon is not None else []
    for t in pool.dirs:
        shutil.rmtree(t, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def shared_sockd(shared_pool):
    """A running sockd that other tests of this file may have used; the
    clients a test opens with d.client() are closed after it."""
    d = shared_pool.get()
    first = len(d.clients)
    shared_pool.serial += 1
    d.serial = shared_pool.serial
    yield d
    for c in d.clients[first:]:
        c.close()
    del d.clients[first:]
    if d.proc.poll() is not None or d.sanitizer_report():
        problems = shared_pool.retire()
        pytest.fail("after this test:\n" + "\n".join(problems),
                    pytrace=False)


# -- 1. malformed frames ------------------------------------------------------

# Frames are sent on a connection that owns a non-blocking AF_INET datagram
# handle: {H} in a frame is its number, so that frames can aim at a handle
# that exists. Each entry: (id, frame, expect, why) where expect
# is
#   "protocol": the contract says io.sockd.ProtocolError, then a close
#               (not JSON, not an object, no method, two flags, too long,
#               too deep, unknown top-level member);
#   "error":    some error reply; then the connection either closes (after a
#               ProtocolError) or goes on serving (any other error);
# and why, when given, is a text the ProtocolError message must contain.
# No malformed frame may get a successful reply, leave the connection
# hanging, or disturb another connection.
G = b'{"method":"org.varlink.service.GetInfo",'
GP = b'{"method":"org.varlink.service.GetInfo","parameters":'
CLOSE_H = b'{"method":"io.sockd.Close","parameters":{"handle":'


def ext(value):
    """GetInfo with value under an extension key, which sockd ignores:
    so the frame is wrong only if value is not JSON."""
    return G + b'"org.example.x":' + value + b"}\0"


def nested(depth, open_=b"[", close=b"]"):
    return GP + b'{"x":' + open_ * depth + close * depth + b"}}\0"


CORPUS = [
    # Not JSON at all, or not quite JSON.
    ("garbage", b"hello, sockd\0", "protocol", None),
    ("lone-open-brace", b"{\0", "protocol", None),
    ("lone-close-brace", b"}\0", "protocol", None),
    ("whitespace-only", b" \t\r\n\0", "protocol", None),
    ("truncated", b'{"method":"org.varlink.service.GetInfo"\0', "protocol",
     None),
    ("trailing-comma", G[:-1] + b",}\0", "protocol", None),
    ("single-quotes", b"{'method':'org.varlink.service.GetInfo'}\0",
     "protocol", None),
    ("unquoted-key", b'{method:"org.varlink.service.GetInfo"}\0', "protocol",
     None),
    ("two-objects", GETINFO[:-1] + GETINFO, "protocol", None),
    ("vertical-tab-after", GETINFO[:-1] + b"\x0b\0", "protocol", None),
    ("comment", ext(b"1 /* comment */"), "protocol", None),
    ("leading-zero", ext(b"012"), "protocol", None),
    ("hex-number", ext(b"0x10"), "protocol", None),
    ("plus-sign", ext(b"+1"), "protocol", None),
    ("no-integer-part", ext(b".5"), "protocol", None),
    ("no-fraction-digits", ext(b"1."), "protocol", None),
    ("NaN", ext(b"NaN"), "protocol", None),
    ("Infinity", ext(b"Infinity"), "protocol", None),
    ("minus-Infinity", ext(b"-Infinity"), "protocol", None),
    ("capital-True", ext(b"True"), "protocol", None),
    ("raw-control-char-in-string", ext(b'"a\x01b"'), "protocol", None),
    ("raw-newline-in-string", ext(b'"a\nb"'), "protocol", None),
    ("bad-escape", ext(b'"\\x41"'), "protocol", None),
    ("short-unicode-escape", ext(b'"\\u00"'), "protocol", None),
    # Not an object.
    ("top-level-array", b'["org.varlink.service.GetInfo"]\0', "protocol",
     None),
    ("top-level-string", b'"org.varlink.service.GetInfo"\0', "protocol",
     None),
    ("top-level-number", b"42\0", "protocol", None),
    ("top-level-float", b"-1.5e300\0", "protocol", None),
    ("top-level-null", b"null\0", "protocol", None),
    ("top-level-true", b"true\0", "protocol", None),
    # Empty messages.
    ("empty-message", b"\0", "protocol", None),
    ("three-empty-messages", b"\0\0\0", "protocol", None),
    ("empty-object", b"{}\0", "protocol", None),
    # method missing or not a string.
    ("no-method", b'{"parameters":{}}\0', "protocol", None),
    ("method-number", b'{"method":5}\0', "protocol", None),
    ("method-null", b'{"method":null}\0', "protocol", None),
    ("method-array", b'{"method":["org.varlink.service.GetInfo"]}\0',
     "protocol", None),
    ("method-object", b'{"method":{"name":"GetInfo"}}\0', "protocol", None),
    ("method-true", b'{"method":true}\0', "protocol", None),
    ("method-huge-number", b'{"method":1e999}\0', "protocol", None),
    # parameters not an object.
    ("parameters-array", GP + b"[]}\0", "protocol", None),
    ("parameters-string", GP + b'"x"}\0', "protocol", None),
    ("parameters-number", GP + b"0}\0", "protocol", None),
    ("parameters-true", GP + b"true}\0", "protocol", None),
    # Two (or three) flags, or a flag that is not a boolean.
    ("oneway-more", G + b'"oneway":true,"more":true}\0', "protocol",
     None),
    ("more-upgrade", G + b'"more":true,"upgrade":true}\0', "protocol",
     None),
    ("oneway-upgrade", G + b'"oneway":true,"upgrade":true}\0', "protocol",
     None),
    ("three-flags", G + b'"oneway":true,"more":true,"upgrade":true}\0',
     "protocol", None),
    ("flag-number", G + b'"more":1}\0', "protocol", None),
    ("flag-string", G + b'"oneway":"true"}\0', "protocol", None),
    # Unknown top-level members (not under a reverse-domain key).
    ("unknown-top-level", G + b'"bogus":1}\0', "protocol", None),
    ("reply-field-continues", G + b'"continues":true}\0', "protocol", None),
    ("reply-field-error", G + b'"error":"x.Y"}\0', "protocol", None),
    ("typo-parameter", G + b'"parameter":{}}\0', "protocol", None),
    ("capital-Method", b'{"Method":"org.varlink.service.GetInfo"}\0',
     "protocol", None),
    # Deep nesting (the limit is 32, the message's own object counted).
    ("nested-arrays-40", nested(40), "protocol", "nested too deeply"),
    ("nested-arrays-100000", nested(100000), "protocol",
     "nested too deeply"),
    ("nested-objects-10000", nested(10000, b'{"a":', b"}"), "protocol",
     "nested too deeply"),
    ("nested-under-extension-key", ext(b"[" * 40 + b"]" * 40), "protocol",
     "nested too deeply"),
    # Invalid UTF-8, in values, keys and the method name.
    ("utf8-overlong-slash", GP + b'{"x":"\xc0\xaf"}}\0', "protocol", None),
    ("utf8-overlong-nul", GP + b'{"x":"\xc0\x80"}}\0', "protocol", None),
    ("utf8-overlong-3byte", GP + b'{"x":"\xe0\x80\xaf"}}\0', "protocol",
     None),
    ("utf8-overlong-4byte", GP + b'{"x":"\xf0\x80\x80\xaf"}}\0', "protocol",
     None),
    ("utf8-surrogate-high", GP + b'{"x":"\xed\xa0\x80"}}\0', "protocol",
     None),
    ("utf8-surrogate-low", GP + b'{"x":"\xed\xbf\xbf"}}\0', "protocol",
     None),
    ("utf8-bare-continuation", GP + b'{"x":"a\x80b"}}\0', "protocol", None),
    ("utf8-continuations-only", GP + b'{"x":"\xbf\xbf\xbf"}}\0', "protocol",
     None),
    ("utf8-truncated-sequence", GP + b'{"x":"\xe2\x82"}}\0', "protocol",
     None),
    ("utf8-above-10ffff", GP + b'{"x":"\xf4\x90\x80\x80"}}\0', "protocol",
     None),
    ("utf8-byte-ff", GP + b'{"x":"\xff"}}\0', "protocol", None),
    ("utf8-in-key", GP + b'{"\xc3\x28":1}}\0', "protocol", None),
    ("utf8-in-method", b'{"method":"io.sockd.\xc3\x28"}\0', "protocol",
     None),
    ("utf8-outside-strings", GETINFO[:-2] + b"\xa0}\0", "protocol", None),
    # A NUL inside a string ends the frame early: what is left of it is
    # incomplete JSON, and the rest after the NUL is never a call.
    ("nul-in-value", b'{"method":"org.varlink.service.GetInterface'
     b'Description","parameters":{"interface":"io.\0sockd"}}\0', "protocol",
     None),
    ("nul-in-method", b'{"method":"org.varlink\0.service.GetInfo"}\0',
     "protocol", None),
    ("nul-in-key", GP + b'{"a\0b":1}}\0', "protocol", None),
    ("nul-after-open-brace", b"{\0" + GETINFO, "protocol", None),
    ("escaped-nul-in-method", b'{"method":"org.varlink.service.GetInfo'
     b'\\u0000x"}\0', "error", None),
    # Huge and out-of-range numbers where ints are expected: JSON, but no
    # handle; never a handle that exists, never a success.
    ("handle-1e999", CLOSE_H + b"1e999}}\0", "error", None),
    ("handle-2**64", CLOSE_H + b"18446744073709551616}}\0", "error", None),
    ("handle-2**63", CLOSE_H + b"9223372036854775808}}\0", "error", None),
    ("handle--2**63-1", CLOSE_H + b"-9223372036854775809}}\0", "error", None),
    ("handle-10000-digits", CLOSE_H + b"9" * 10000 + b"}}\0", "error", None),
    ("handle-2**32+H", b'{"method":"io.sockd.GetSockName","parameters":'
     b'{"handle":{H32}}}\0', "error", None),
    ("handle-2**64+H", b'{"method":"io.sockd.GetSockName","parameters":'
     b'{"handle":{H64}}}\0', "error", None),
    ("handle-H-2**64", b'{"method":"io.sockd.GetSockName","parameters":'
     b'{"handle":{HM64}}}\0', "error", None),
    ("handle-float-H", b'{"method":"io.sockd.GetSockName","parameters":'
     b'{"handle":{H}.5}}\0', "error", None),
    ("handle-string-H", b'{"method":"io.sockd.GetSockName","parameters":'
     b'{"handle":"{H}"}}\0', "error", None),
    ("handle-true", b'{"method":"io.sockd.GetSockName","parameters":'
     b'{"handle":true}}\0', "error", None),
    ("handle-array-H", b'{"method":"io.sockd.GetSockName","parameters":'
     b'{"handle":[{H}]}}\0', "error", None),
    ("timeout-1e999", b'{"method":"io.sockd.SetTimeout","parameters":'
     b'{"handle":{H},"timeout":1e999}}\0', "error", None),
    ("timeout--1e999", b'{"method":"io.sockd.SetTimeout","parameters":'
     b'{"handle":{H},"timeout":-1e999}}\0', "error", None),
    ("bufsize-2**64", b'{"method":"io.sockd.Recv","parameters":'
     b'{"handle":{H},"bufsize":18446744073709551616}}\0', "error", None),
    ("bufsize--2**63-1", b'{"method":"io.sockd.Recv","parameters":'
     b'{"handle":{H},"bufsize":-9223372036854775809}}\0', "error", None),
    ("port-2**64", b'{"method":"io.sockd.Bind","parameters":{"handle":{H},'
     b'"address":{"host":"127.0.0.1","port":18446744073709551616}}}\0',
     "error", None),
    ("port-65536", b'{"method":"io.sockd.Bind","parameters":{"handle":{H},'
     b'"address":{"host":"127.0.0.1","port":65536}}}\0', "error", None),
    ("proto-2**32+17", b'{"method":"io.sockd.Socket","parameters":'
     b'{"family":"AF_INET","type":"SOCK_DGRAM","proto":4294967313}}\0',
     "error", None),
    ("sockopt-value-2**32+1", b'{"method":"io.sockd.SetSockOpt",'
     b'"parameters":{"handle":{H},"level":"SOL_SOCKET","option":'
     b'"SO_BROADCAST","value":4294967297}}\0', "error", None),
    ("poll-timeout-1e999", b'{"method":"io.sockd.Poll","parameters":'
     b'{"items":[],"timeout":1e999}}\0', "error", None),
    # Method names without a dot, of unknown interfaces, or misspelt.
    ("method-empty", b'{"method":""}\0', "error", None),
    ("method-no-dot", b'{"method":"GetInfo"}\0', "error", None),
    ("method-dot-only", b'{"method":"."}\0', "error", None),
    ("method-leading-dot", b'{"method":".GetInfo"}\0', "error", None),
    ("method-trailing-dot", b'{"method":"org.varlink.service."}\0', "error",
     None),
    ("method-interface-only", b'{"method":"io.sockd"}\0', "error", None),
    ("method-unknown-interface", b'{"method":"com.example.Frob"}\0', "error",
     None),
    ("method-interface-prefix", b'{"method":"io.sockdX.List"}\0', "error",
     None),
    ("method-lowercase", b'{"method":"io.sockd.list"}\0', "error", None),
    ("method-unknown", b'{"method":"io.sockd.Frobnicate"}\0', "error", None),
    ("method-extra-part", b'{"method":"io.sockd.List.Extra"}\0', "error",
     None),
    ("method-trailing-space", b'{"method":"io.sockd.List "}\0', "error",
     None),
    ("method-wrong-interface", b'{"method":"org.varlink.service.List"}\0',
     "error", None),
    ("method-100k", b'{"method":"io.sockd.' + b"A" * 100000 + b'"}\0',
     "error", None),
]


@pytest.mark.parametrize("frame,expect,why",
                         [(f, e, w) for _, f, e, w in CORPUS],
                         ids=[i for i, _, _, _ in CORPUS])
def test_malformed_frame(shared_sockd, frame, expect, why):
    """One malformed frame: an error reply or a close, never a success, a
    crash or a hang; other connections are not disturbed."""
    d = shared_sockd
    bystander = d.client()
    bh = new_socket(bystander, "AF_UNIX", "SOCK_DGRAM")
    c = d.client(timeout=LIVENESS)
    h = new_socket(c, "AF_INET", "SOCK_DGRAM")
    c.call("io.sockd.SetTimeout", {"handle": h, "timeout": 0})
    for key, value in ((b"{H32}", h + 2 ** 32), (b"{H64}", h + 2 ** 64),
                       (b"{HM64}", h - 2 ** 64), (b"{H}", h)):
        frame = frame.replace(key, str(value).encode())
    # A GetInfo behind the frame shows whether the connection goes on.
    check_frame_outcome(c, frame + GETINFO, expect, why)
    bystander_and_others_served(d, bystander, bh)


def check_frame_outcome(c, data, expect, why):
    try:
        c.send_raw(data)
    except (BrokenPipeError, ConnectionResetError):
        pass    # sockd may close before it has read all of a long frame
    try:
        first = c.recv_msg(timeout=LIVENESS)
    except TimeoutError:
        raise AssertionError(f"no reply and no close within {LIVENESS} s "
                             f"(the connection hangs)") from None
    except (ConnectionClosed, ConnectionResetError):
        assert expect != "protocol", \
            "closed without the io.sockd.ProtocolError reply"
        return
    problems = reply_problems(first)
    assert not problems, f"malformed reply {first!r}: {problems}"
    assert "error" in first, f"a malformed frame succeeded: {short(first)}"
    if first["error"] == PROTOCOL_ERROR:
        if why is not None:
            assert why in first["parameters"]["message"], first
        try:
            rest = c.wait_closed(LIVENESS)
        except TimeoutError:
            raise AssertionError("connection still open after a "
                                 "ProtocolError") from None
        assert not rest, f"replies after the ProtocolError: {rest!r}"
        return
    assert expect != "protocol", f"expected {PROTOCOL_ERROR}, got {first!r}"
    # Any other error keeps the connection: the GetInfo behind is answered.
    try:
        nxt = c.recv_msg(timeout=LIVENESS)
    except (TimeoutError, ConnectionClosed) as e:
        raise AssertionError(f"after {first['error']} the connection does "
                             f"not go on: {e!r}") from None
    assert "io.sockd" in Client.result(nxt)["interfaces"], nxt


def bystander_and_others_served(d, bystander, bh):
    assert d.proc.poll() is None, f"sockd died:\n{d.stderr()[-5000:]}"
    assert bystander.call("io.sockd.GetSockName", {"handle": bh})[
        "address"]["family"] == "AF_UNIX"
    assert_served(d, "a second client")


def test_frame_over_max_message(start_sockd):
    """Over --max-message, with and without its NUL, and all whitespace:
    ProtocolError "message too long" and a close."""
    d = start_sockd("--max-message", "4096")
    bystander = d.client()
    bh = new_socket(bystander, "AF_UNIX", "SOCK_DGRAM")
    frames = [
        call_message("org.varlink.service.GetInterfaceDescription",
                     {"interface": "a" * 5000}),
        b'{"method":"org.varlink.service.GetInterfaceDescription",'
        b'"parameters":{"interface":"' + b"a" * 6000,
        b" " * 5000 + GETINFO,
        b"[" * 4097 + b"\0",
    ]
    for frame in frames:
        c = d.client(timeout=LIVENESS)
        check_frame_outcome(c, frame + GETINFO, "protocol", "too long")
        bystander_and_others_served(d, bystander, bh)
    # Just under the limit is fine.
    c = d.client()
    ok = call_message("org.varlink.service.GetInterfaceDescription",
                      {"interface": "b" * 3900})
    assert len(ok) <= 4097
    c.send_raw(ok)
    assert c.recv_msg()["error"] == "org.varlink.service.InterfaceNotFound"


# Strings with an escaped NUL (\u0000) are JSON, but no name of the protocol
# contains a NUL: Python refuses them ("embedded null character"). sockd must
# not cut the string at the NUL and act on what comes before it.
NUL = "\u0000"
ESCAPED_NUL_CASES = [
    ("interface", "org.varlink.service.GetInterfaceDescription",
     {"interface": "io.sockd" + NUL + "junk"}),
    ("family", "io.sockd.Socket",
     {"family": "AF_INET" + NUL + "x", "type": "SOCK_DGRAM"}),
    ("type", "io.sockd.Socket",
     {"family": "AF_INET", "type": "SOCK_DGRAM" + NUL + "x"}),
    ("how", "io.sockd.Shutdown", {"handle": "{H}",
                                  "how": "SHUT_RDWR" + NUL + "x"}),
    ("level", "io.sockd.SetSockOpt",
     {"handle": "{H}", "level": "SOL_SOCKET" + NUL + "x",
      "option": "SO_BROADCAST", "value": 1}),
    ("option", "io.sockd.SetSockOpt",
     {"handle": "{H}", "level": "SOL_SOCKET",
      "option": "SO_BROADCAST" + NUL + "x", "value": 1}),
    ("flags", "io.sockd.SendTo",
     {"handle": "{H}", "data": "", "flags": ["MSG_DONTWAIT" + NUL + "x"],
      "address": {"host": "127.0.0.1", "port": 9}}),
    ("items", "io.sockd.Poll",
     {"items": [{"handle": "{H}", "events": ["POLLOUT" + NUL + "x"]}],
      "timeout": 0}),
    ("host", "io.sockd.GetAddrInfo",
     {"host": "localhost" + NUL + ".example.com"}),
    ("host", "io.sockd.GetHostByAddr", {"host": "127.0.0.1" + NUL + "x"}),
    ("name", "io.sockd.Find", {"name": "{NAME}" + NUL + "x"}),
]


@pytest.mark.parametrize("field,method,params",
                         ESCAPED_NUL_CASES,
                         ids=[m.split(".")[-1] + "-" + f
                              for f, m, _ in ESCAPED_NUL_CASES])
def test_escaped_nul_does_not_cut_a_string(shared_sockd, field, method,
                                           params):
    sockd = shared_sockd
    c = sockd.client()
    name = f"abuse{sockd.serial}"
    h = new_socket(c, "AF_INET", "SOCK_DGRAM", name=name)
    c.call("io.sockd.SetTimeout", {"handle": h, "timeout": 0})
    params = json.loads(json.dumps(params).replace('"{H}"', str(h))
                        .replace("{NAME}", name))
    c.send_call(method, params)
    msg = c.recv_msg()
    assert not reply_problems(msg), msg
    assert "error" in msg, \
        f"{method} acted on {field} cut at its NUL: {json.dumps(params)} " \
        f"-> {short(msg)}"
    allowed = {"org.varlink.service.InvalidParameter"}
    if field == "interface":
        allowed = {"org.varlink.service.InterfaceNotFound",
                   "org.varlink.service.InvalidParameter"}
    elif field == "host":
        allowed |= {"io.sockd.GAIError", "io.sockd.HError"}
    elif field == "name":
        allowed |= {"io.sockd.OSError"}     # ENOENT: no such name
    assert msg["error"] in allowed, \
        f"{method} with a NUL in {field}: {msg!r} (expected one of " \
        f"{sorted(allowed)})"
    if msg["error"] == "org.varlink.service.InvalidParameter":
        assert msg["parameters"]["parameter"] in (field, "address"), msg
    # The handle is untouched and still usable.
    assert c.call("io.sockd.GetSockName", {"handle": h})["address"][
        "family"] == "AF_INET"
    assert_served(sockd)


# -- 2. random calls ----------------------------------------------------------

def idl_methods():
    """{method: [(field, optional)]} from the interface definition."""
    with open(IDL) as f:
        text = f.read()
    out = {}
    for name, args in re.findall(r"^method (\w+)\((.*?)\)\s*->", text,
                                 re.M | re.S):
        fields = []
        depth = 0
        cur = ""
        for ch in args:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            if ch == "," and depth == 0:
                fields.append(cur)
                cur = ""
            else:
                cur += ch
        if cur.strip():
            fields.append(cur)
        out[name] = [(f.split(":")[0].strip(), ":" in f and
                      f.split(":", 1)[1].strip().startswith("?"))
                     for f in fields]
    assert "Socket" in out and "Poll" in out, out
    return out


def names(prefixes, extra=()):
    return sorted({n for n in dir(socket) if n.startswith(prefixes)}
                  | set(extra))


FAMILIES = ["AF_INET", "AF_INET6", "AF_UNIX", "AF_BLUETOOTH", "AF_PACKET",
            "AF_NETLINK", "AF_UNSPEC", "AF_CAN", "AF_inet", "", "AF_INET "]
TYPES = ["SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_SEQPACKET",
         "SOCK_RDM", "SOCK_PACKET", "SOCK_NONBLOCK", "STREAM"]
LEVELS = ["SOL_SOCKET", "IPPROTO_TCP", "IPPROTO_IP", "IPPROTO_IPV6",
          "IPPROTO_UDP", "SOL_TCP", "IPPROTO_RAW", "SOL_PACKET"]
OPTIONS = names(("SO_", "TCP_", "IP_", "IPV6_", "UDP_"))
MSG_FLAGS = names("MSG_", ["MSG_BOGUS"])
AI_FLAGS = names("AI_", ["AI_BOGUS"])
NI_FLAGS = names("NI_", ["NI_BOGUS"])
POLL_EVENTS = ["POLLIN", "POLLOUT", "POLLPRI", "POLLERR", "POLLHUP",
               "POLLNVAL", "POLLRDHUP", "POLLWRNORM", "POLLBOGUS"]
HOWS = ["SHUT_RD", "SHUT_WR", "SHUT_RDWR", "SHUT_NONE", "2"]
HOSTS = ["127.0.0.1", "0.0.0.0", "::", "::1", "10.1.2.3", "192.0.2.1",
         "255.255.255.255", "224.0.0.1", "fe80::1%lo", "localhost",
         "example.invalid", "256.1.1.1", "1.2.3", "", " ", "::ffff:1.2.3.4",
         "x" * 300, "a..b", "-", "%", "\u00e9.example"]
INTS = [0, 1, -1, 2, 7, 80, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31,
        2 ** 32, 2 ** 32 + 1, 2 ** 53 + 1, 2 ** 63 - 1, -2 ** 63, 2 ** 64]
FLOATS = [0.0, -0.0, 0.001, 0.01, 0.5, 1.5, 1e-300, 1e12, 1e300, -1.0,
          -1e300]
STRINGS = ["", "x", "abuse", "\u0000", "\u00e9", "\U0001f600", "\ud800",
           "a b", "a\tb", "123", "-1", "null", "{}", "AF_INET", "SOL_SOCKET",
           "0" * 256, "n" * 255, "/", "@", "=="]


class CallGen:
    """Random calls from one seed: every io.sockd method and bogus ones.
    Most calls are plausible (right types, names that exist, handles that
    exist, addresses of the handle's family), so that sockets get bound,
    listen, connect, accept and carry data; the rest are mutated (wrong
    types, wild values, missing and unknown fields, bogus methods)."""

    def __init__(self, rng, tmpdir, daemon_path):
        self.rng = rng
        self.methods = idl_methods()
        self.handles = {}           # live handle -> (slot, persistent)
        self.family = {}            # handle -> family, when known
        self.max_handle = 1
        self.names = ["n1", "n2", "x" * 255]
        self.serial = 0
        self.unix_paths = [os.path.join(tmpdir, f"u{i}") for i in range(4)] \
            + ["@sockd-abuse-%d" % i for i in range(3)] + [daemon_path]
        self.wild_unix_paths = ["", os.path.join(tmpdir, "d" * 80),
                                os.path.join(tmpdir, "d" * 120),
                                "/nonexistent/dir/sock", "@",
                                "@" + "z" * 200, "relative"]
        self.bogus_methods = [
            "io.sockd.Bogus", "io.sockd.socket", "io.sockd", "io.sockd.",
            "org.varlink.service.Bogus", "com.example.Frob", "", "Socket",
            "io.sockd.Socket.X", "org.varlink.service.GetInfo ",
        ]

    # -- wild values

    def json_value(self, depth=0):
        r = self.rng
        k = r.randrange(8 if depth < 3 else 5)
        if k == 0:
            return None
        if k == 1:
            return r.random() < 0.5
        if k == 2:
            return r.choice(INTS + [r.randint(-10 ** 6, 10 ** 6)])
        if k == 3:
            return r.choice(FLOATS + [r.uniform(-1e6, 1e6)])
        if k == 4:
            return r.choice(STRINGS + FAMILIES + MSG_FLAGS + [
                "".join(r.choice(string.printable)
                        for _ in range(r.randrange(20)))])
        if k == 5:
            return [self.json_value(depth + 1)
                    for _ in range(r.randrange(4))]
        if k == 6:
            return {self.key(): self.json_value(depth + 1)
                    for _ in range(r.randrange(4))}
        return self.address(None, valid=False)

    def key(self):
        return self.rng.choice(["handle", "family", "type", "address",
                                "host", "port", "data", "flags", "x", "",
                                "Handle", "handle ", "\u00e9", "path",
                                "timeout", "items", "events", "a" * 100])

    # -- field values, valid or not

    def handle(self, valid=True):
        r = self.rng
        k = r.random()
        if self.handles and (k < 0.75 or valid and k < 0.95):
            return r.choice(list(self.handles))
        if k < 0.95:
            return r.randint(1, self.max_handle + 3)
        return r.choice([0, -1, 2 ** 31, 2 ** 32 + 1, 2 ** 63 - 1, -2 ** 63,
                         2 ** 64])

    def address(self, handle, valid=True):
        r = self.rng
        fam = self.family.get(handle) if valid else None
        if fam is None or r.random() < 0.1:
            fam = r.choice(["AF_UNIX", "AF_UNIX", "AF_INET", "AF_INET6"] +
                           ([] if valid else
                            ["AF_BLUETOOTH", None, "AF_PACKET", "AF_BOGUS"]))
        a = {"family": fam} if fam and r.random() < 0.7 else {}
        if fam == "AF_INET":
            a["host"] = r.choice(["0.0.0.0", "127.0.0.1", "10.9.8.7"]
                                 if valid else HOSTS)
            a["port"] = r.choice([0, 0, 9, 4444, 5555] if valid else
                                 [1, 65535, 65536, -1, 2 ** 40])
        elif fam == "AF_INET6":
            a["host"] = r.choice(["::", "::1", "fe80::1"] if valid
                                 else HOSTS)
            a["port"] = r.choice([0, 0, 9, 4444, 5555] if valid else
                                 [1, 65535, 65536, -1, 2 ** 40])
            if r.random() < 0.3:
                a["flowinfo"] = r.choice([0, 1] if valid else
                                         [2 ** 20, 2 ** 32, -1])
            if r.random() < 0.3:
                a["scope_id"] = r.choice([0, 1] if valid else
                                         [2 ** 32 - 1, 2 ** 32, -1])
        elif fam == "AF_UNIX":
            a["path"] = r.choice(self.unix_paths if valid or r.random() < 0.5
                                 else self.wild_unix_paths)
        elif fam == "AF_BLUETOOTH":
            a["bdaddr"] = r.choice(["00:11:22:33:44:55", "zz", "",
                                    "00:00:00:00:00:00:00"])
            a[r.choice(["channel", "psm"])] = r.choice([1, 0, 30, 65536,
                                                        -1])
        if not valid:
            for k in ("host", "port", "path"):
                if r.random() < 0.1:
                    a[k] = self.json_value(1)
            if r.random() < 0.1:
                a[self.key()] = self.json_value(1)
        return a

    def data(self, valid=True):
        r = self.rng
        if valid or r.random() < 0.5:
            if r.random() < 0.2:
                raw = call_message("org.varlink.service.GetInfo")
            else:
                raw = bytes(r.randrange(256) for _ in range(r.choice(
                    [0, 1, 10, 100, 1500])))
            return base64.b64encode(raw).decode()
        return r.choice(["!!!!", "abc", "ab==", "=", "A===", "QUJD\n",
                         "a" * 4097])

    def names_list(self, table, common):
        r = self.rng
        if r.random() < 0.7:
            return r.choice(common)
        return [r.choice(table) for _ in range(r.choice([1, 1, 2, 3]))]

    def level_option(self):
        r = self.rng
        level, prefix = r.choice([("SOL_SOCKET", "SO_"),
                                  ("IPPROTO_TCP", "TCP_"),
                                  ("IPPROTO_IP", "IP_"),
                                  ("IPPROTO_IPV6", "IPV6_"),
                                  ("IPPROTO_UDP", "UDP_")])
        opts = [o for o in OPTIONS if o.startswith(prefix)] or OPTIONS
        return level, r.choice(opts)

    def field(self, name, params, valid):
        r = self.rng
        if not valid and r.random() < 0.3:
            return self.json_value()
        h = params.get("handle")
        gen = {
            "handle": lambda: self.handle(valid),
            "family": lambda: r.choice(
                ["AF_UNIX", "AF_UNIX", "AF_INET", "AF_INET6"] if valid
                else FAMILIES),
            "type": lambda: r.choice(
                ["SOCK_STREAM", "SOCK_STREAM", "SOCK_DGRAM"] if valid
                else TYPES),
            "proto": lambda: 0 if valid else r.choice(
                [6, 17, 1, 255, 256, -1, 65536, 2 ** 40]),
            "persistent": lambda: r.random() < 0.1,
            "name": lambda: self.new_name() if valid and r.random() < 0.7
            else r.choice(self.names + STRINGS),
            "address": lambda: self.address(h, valid),
            "backlog": lambda: r.choice([0, 1, 128] if valid else
                                        [-1, 2 ** 31, 2 ** 63 - 1]),
            "data": lambda: self.data(valid),
            "flags": lambda: self.names_list(
                MSG_FLAGS + AI_FLAGS + NI_FLAGS, [[], ["MSG_DONTWAIT"],
                                                  ["MSG_PEEK"]]),
            "bufsize": lambda: r.choice([1, 100, 4096, 65536] if valid else
                                        [0, -1, 2 ** 31, 2 ** 63 - 1]),
            "timeout": lambda: r.choice([None, 0, 0, 0.001, 0.02, 0.05]
                                        if valid else [1e12, -1, 1e300]),
            "blocking": lambda: r.random() < 0.3,
            "level": lambda: self.level_option()[0] if not valid else None,
            "option": lambda: r.choice(OPTIONS),
            "value": lambda: r.choice([0, 1, 4096] if valid else
                                      [65536, -1, 2 ** 31, 2 ** 32 + 1]),
            "buflen": lambda: r.choice([4, 16, 64] if valid else
                                       [0, 1025, -1, 2 ** 31]),
            "how": lambda: r.choice(HOWS[:3] if valid else HOWS),
            "detach": lambda: r.random() < 0.3,
            "items": lambda: [
                {"handle": self.handle(valid),
                 "events": self.names_list(POLL_EVENTS, [["POLLIN"],
                                                         ["POLLOUT"]])}
                if valid or r.random() < 0.8 else self.json_value(2)
                for _ in range(r.choice([0, 1, 1, 2, 5]))],
            "host": lambda: r.choice(["localhost", "127.0.0.1", "::1", None]
                                     if valid else HOSTS),
            "port": lambda: r.choice([0, 80, None] if valid else
                                     [65535, 65536, -1]),
            "interface": lambda: r.choice(["io.sockd", "org.varlink.service"]
                                          if valid else
                                          ["io.sockd.x", "", "IO.SOCKD"]),
        }.get(name)
        return gen() if gen is not None else self.json_value()

    def new_name(self):
        self.serial += 1
        name = f"r{self.serial}"
        self.names.append(name)
        return name

    # -- calls

    def call(self):
        """(message dict, flags set) for one random call."""
        r = self.rng
        valid = r.random() < 0.6
        if not valid and r.random() < 0.1:
            method = r.choice(self.bogus_methods)
            spec = r.choice(list(self.methods.values()))
        elif r.random() < 0.03:
            method, spec = r.choice([
                ("org.varlink.service.GetInfo", []),
                ("org.varlink.service.GetInterfaceDescription",
                 [("interface", False)])])
        else:
            if len(self.handles) < 30 and r.random() < 0.2:
                name = "Socket"
            else:
                name = r.choice(sorted(self.methods))
            method = "io.sockd." + name
            spec = self.methods[name]
            if not valid and r.random() < 0.05:
                spec = r.choice(list(self.methods.values()))
        params = {}
        for field, optional in spec:
            if r.random() < (0.5 if optional else 1 if valid else 0.9):
                params[field] = self.field(field, params, valid)
        if "level" in params and valid:
            params["level"], params["option"] = self.level_option()
        if method == "io.sockd.SetSockOpt" and valid:
            params.pop(r.choice(["value", "data"]), None)
            if "value" not in params and "data" not in params:
                params["value"] = 1
        if not valid and r.random() < 0.15:
            params[self.key()] = self.json_value(1)
        msg = {"method": method}
        if not valid and r.random() < 0.02:
            msg["parameters"] = r.choice([[], "x", 1, True])
        elif params or r.random() < 0.5:
            msg["parameters"] = params
        flags = set()
        k = r.random()
        if method.endswith(".Attach") and k < 0.7:
            flags.add("upgrade")
        elif k < 0.03:
            flags.add("oneway")
        elif k < 0.06:
            flags.add("more")
        elif k < 0.07:
            flags.add("upgrade")
        elif k < 0.075:
            flags.update(r.sample(["oneway", "more", "upgrade"], 2))
        for f in flags:
            msg[f] = True
        return msg, flags

    def learn(self, msg, reply, slot):
        """Remember the handles a reply reveals, and forget those it shows
        are gone."""
        method = msg["method"]
        params = msg.get("parameters")
        params = params if isinstance(params, dict) else {}
        h = params.get("handle")
        p = reply.get("parameters") or {}
        if "error" in reply:
            if p.get("name") == "EBADF" and h in self.handles:
                del self.handles[h]
            return
        if method == "io.sockd.Close" or (method == "io.sockd.FileNo" and
                                          params.get("detach") is True):
            self.handles.pop(h, None)
        if method in ("io.sockd.Socket", "io.sockd.Accept"):
            new = p.get("handle")
            if isinstance(new, int) and not isinstance(new, bool):
                if method == "io.sockd.Socket":
                    scope = (slot, params.get("persistent") is True)
                    if isinstance(params.get("family"), str):
                        self.family[new] = params["family"]
                else:
                    scope = self.handles.get(h, (slot, False))
                    self.family[new] = self.family.get(h)
                self.handles[new] = scope
                self.max_handle = max(self.max_handle, new)

    def forget_slot(self, slot):
        """A connection closed: its scoped handles are gone."""
        for h, (owner, persistent) in list(self.handles.items()):
            if owner == slot and not persistent:
                del self.handles[h]


class Slot:
    """One connection of the random test, with at most one reply due."""

    def __init__(self, path, index, gen):
        self.gen = gen
        self.path = path
        self.index = index
        self.c = Client(path, timeout=LIVENESS)
        self.due = None             # (message, flags, deadline)
        self.oneway = False         # the last call sent was oneway
        self.history = collections.deque(maxlen=6)

    def replace(self):
        self.gen.forget_slot(self.index)
        self.c.close()
        self.c = Client(self.path, timeout=LIVENESS)
        self.due = None
        self.history.append("-- reconnected --")


RANDOM_CALLS = 5000
RANDOM_SLOTS = 8
REPLY_DEADLINE = 0.5


def test_random_calls(start_sockd, tmp_path):
    """Thousands of random calls from a fixed seed, in an empty network
    namespace: every reply is one well-formed JSON object, and sockd lives.
    A call still unanswered after REPLY_DEADLINE (it may wait forever, as a
    blocking Recv does) is cancelled by dropping its connection."""
    d = start_sockd(prefix=["unshare", "-n"])
    rng = random.Random(1234)
    tmpdir = str(tmp_path)
    os.chmod(tmpdir, 0o755)
    gen = CallGen(rng, tmpdir, d.path)
    slots = [Slot(d.path, i, gen) for i in range(RANDOM_SLOTS)]
    problems = []
    outcomes = collections.Counter()
    sent = 0
    t0 = time.monotonic()

    def report(slot, what):
        problems.append(f"slot {slot.index}: {what}; its last frames:\n  "
                        + "\n  ".join(slot.history))

    def check_alive():
        if d.proc.poll() is not None:
            hist = "\n".join(f"slot {s.index}:\n  " + "\n  ".join(s.history)
                             for s in slots)
            raise AssertionError(
                f"sockd died (status {d.proc.returncode}) after {sent} "
                f"calls; last frames per connection:\n{hist}\n"
                f"stderr:\n{d.stderr()[-8000:]}")

    try:
        while sent < RANDOM_CALLS or any(s.due for s in slots):
            now = time.monotonic()
            for s in slots:
                if s.due is not None or sent >= RANDOM_CALLS:
                    continue
                msg, flags = gen.call()
                frame = encode(msg)
                s.history.append(frame[:300].decode("utf-8", "replace"))
                sent += 1
                try:
                    s.c.send_raw(frame)
                except (BrokenPipeError, ConnectionResetError):
                    # Only a malformed oneway call (a ProtocolError, then
                    # a close) may end a connection unseen.
                    if not s.oneway:
                        report(s, "connection closed after a reply")
                    outcomes["(closed after a oneway call)"] += 1
                    s.replace()
                    continue
                s.oneway = flags == {"oneway"}
                if s.oneway:
                    outcomes["(oneway)"] += 1
                    continue
                s.due = (msg, flags, now + REPLY_DEADLINE)
                if rng.random() < 0.01:
                    # Walk away with the reply due: a cancel, or a reply
                    # written to a closed connection.
                    outcomes["(dropped by the client)"] += 1
                    s.replace()
            waiting = [s for s in slots if s.due is not None]
            if not waiting:
                continue
            timeout = max(0.0, min(s.due[2] for s in waiting) -
                          time.monotonic())
            readable, _, _ = select.select([s.c.sock for s in waiting], [],
                                           [], timeout)
            for s in waiting:
                if s.c.sock in readable or s.c.pending(0):
                    handle_reply(s, gen, outcomes, report)
                elif time.monotonic() > s.due[2]:
                    outcomes["(no reply in time: dropped)"] += 1
                    s.replace()
            if sent % 250 == 0:
                check_alive()
        check_alive()
    finally:
        close_all(s.c for s in slots)
    elapsed = time.monotonic() - t0
    ok = sum(v for k, v in outcomes.items() if k.endswith(": ok"))
    errors = collections.Counter()
    for k, v in outcomes.items():
        if not k.startswith("(") and not k.endswith(": ok"):
            errors[k.split(": ", 1)[1].split(" ")[0]] += v
    print(f"\nrandom calls: {sent} calls on {RANDOM_SLOTS} connections in "
          f"{elapsed:.1f} s: {ok} succeeded; errors "
          + ", ".join(f"{k} {v}" for k, v in errors.most_common())
          + "; " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())
                             if k.startswith("(")))
    print("  the most frequent outcomes:")
    for k, v in outcomes.most_common(25):
        print(f"  {v:6d}  {k}")
    assert not problems, f"{len(problems)} bad replies:\n" + \
        "\n".join(problems[:20])
    # Whatever the calls did, sockd serves; only persistent handles outlive
    # their connections, and they all close.
    assert_served(d)
    with Client(d.path) as c:
        wait_until(lambda: all(s["persistent"] for s in
                               c.call("io.sockd.List")["sockets"]),
                   timeout=LIVENESS, what="scoped handles to close")
        for s in c.call("io.sockd.List")["sockets"]:
            c.call("io.sockd.Close", {"handle": s["handle"]})
        assert c.call("io.sockd.List")["sockets"] == []


def handle_reply(s, gen, outcomes, report):
    msg, flags, deadline = s.due
    method = msg["method"]
    try:
        reply, fds = s.c.recv_msg_fds(
            timeout=max(0.05, deadline - time.monotonic()))
    except TimeoutError:
        outcomes["(no reply in time: dropped)"] += 1
        s.replace()
        return
    except (ConnectionClosed, ConnectionResetError):
        if flags and len(flags) > 1:
            outcomes["(closed after two flags)"] += 1
        else:
            report(s, f"connection closed with no reply to {method}")
        s.replace()
        return
    except AssertionError as e:     # not JSON, not an object, bad fds
        report(s, str(e))
        s.replace()
        return
    for fd in fds:
        os.close(fd)
    bad = reply_problems(reply, more="more" in flags)
    if fds and not (method == "io.sockd.FileNo" and "error" not in reply):
        bad.append(f"{len(fds)} fds came with the reply")
    s.history.append("<- " + json.dumps(reply)[:200])
    if bad:
        report(s, f"bad reply to {method}: {reply!r}: {bad}")
    gen.learn(msg, reply, s.index)
    name = reply.get("error") or "ok"
    if name == "io.sockd.OSError":
        name += " " + str((reply.get("parameters") or {}).get("name"))
    outcomes[f"{method.rsplit('.', 1)[-1]}: {name}"[:80]] += 1
    if reply.get("continues"):
        return                      # more replies to this call follow
    s.due = None
    if len(flags) > 1 and name != PROTOCOL_ERROR:
        report(s, f"two flags {sorted(flags)} got {reply!r}")
    if name == PROTOCOL_ERROR or ("upgrade" in flags and
                                  "error" not in reply):
        # Closed by sockd, or no longer varlink.
        s.replace()


# -- 3. a client that pipelines and never reads -------------------------------

def test_client_that_never_reads_keeps_rss_bounded(start_sockd):
    """A client pipelines calls for 5 GiB of replies and reads none: sockd
    stops reading it once --max-output (16 MiB) of replies wait, so its RSS
    grows by about that much and no more, and others are served meanwhile.
    Under AddressSanitizer the quarantine of freed memory (256 MiB by
    default) would count every temporary buffer of every reply as resident:
    it is kept small here, so that RSS measures what sockd holds."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    sockd = start_sockd(env={"ASAN_OPTIONS": asan + (":" if asan else "")
                             + "quarantine_size_mb=1"})
    pid = sockd.proc.pid
    other = sockd.client()
    desc = other.call("org.varlink.service.GetInterfaceDescription",
                      {"interface": "io.sockd"})["description"]
    reply_size = len(encode({"parameters": {"description": desc}}))
    for _ in range(20):                 # warm up the allocator
        other.call("org.varlink.service.GetInterfaceDescription",
                   {"interface": "io.sockd"})
    before = proc_status_kib(pid, "VmRSS")
    slow = sockd.client()
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    call = call_message("org.varlink.service.GetInterfaceDescription",
                        {"interface": "io.sockd"})
    n = 400000
    data = call * n
    slow.sock.setblocking(False)
    sent = 0
    peak = before
    deadline = time.monotonic() + 20
    # Send until sockd has taken nothing for a second.
    while sent < len(data) and time.monotonic() < deadline:
        _, w, _ = select.select([], [slow.sock], [], 1.0)
        peak = max(peak, proc_status_kib(pid, "VmRSS"))
        if not w:
            break
        try:
            sent += slow.sock.send(data[sent:sent + 65536])
        except BlockingIOError:
            pass
    peak = max(peak, proc_status_kib(pid, "VmRSS"))
    asked = sent // len(call) * reply_size
    # Others are answered meanwhile, small replies and large.
    t = time.monotonic()
    assert "io.sockd" in other.call("org.varlink.service.GetInfo",
                                    timeout=LIVENESS)["interfaces"]
    assert other.call("org.varlink.service.GetInterfaceDescription",
                      {"interface": "io.sockd"}, timeout=LIVENESS)[
        "description"] == desc
    with Client(sockd.path, timeout=LIVENESS) as third:
        h = new_socket(third, "AF_INET", "SOCK_DGRAM")
        third.call("io.sockd.Close", {"handle": h})
    answered_in = time.monotonic() - t
    peak = max(peak, proc_status_kib(pid, "VmRSS"))
    hwm = proc_status_kib(pid, "VmHWM")
    slow.close()
    # The slow connection's end is seen before a later call is answered.
    with Client(sockd.path) as fourth:
        fourth.call("org.varlink.service.GetInfo")
    after = proc_status_kib(pid, "VmRSS")
    print(f"\nRSS slow-reader: before {before / 1024:.1f} MiB, peak "
          f"{peak / 1024:.1f} MiB (VmHWM {hwm / 1024:.1f} MiB), after "
          f"{after / 1024:.1f} MiB; growth {(peak - before) / 1024:.1f} MiB "
          f"while {sent / 2 ** 20:.1f} MiB of calls asking for "
          f"{asked / 2 ** 30:.2f} GiB of replies were taken "
          f"({len(data) / 2 ** 20:.0f} MiB offered, "
          f"{n * reply_size / 2 ** 30:.1f} GiB of replies); other clients "
          f"answered in {answered_in:.3f} s")
    assert sent < len(data), \
        f"sockd read all {sent} bytes of calls from a client that never reads"
    assert peak - before < 64 * 1024, \
        f"RSS grew {(peak - before) / 1024:.1f} MiB for a client that " \
        f"never reads (before {before} KiB, peak {peak} KiB)"
    assert_served(sockd)


# -- 4. many clients at once --------------------------------------------------

def test_a_thousand_clients_at_once(sockd):
    n = 1000
    raise_nofile(n + 256)
    clients = []
    try:
        for _ in range(n):
            clients.append(Client(sockd.path, timeout=LIVENESS * 2))
        # Every connection has a call in flight before any reply is read.
        for c in clients:
            c.send_call("io.sockd.Socket", {"family": "AF_UNIX",
                                            "type": "SOCK_DGRAM"})
        handles = [Client.result(c.recv_msg())["handle"] for c in clients]
        assert len(set(handles)) == n, "handles handed out twice"
        for c, h in zip(clients, handles):
            c.send_call("io.sockd.GetSockName", {"handle": h})
        for c in clients:
            assert Client.result(c.recv_msg())["address"]["family"] == \
                "AF_UNIX"
        with Client(sockd.path) as lister:
            listed = {s["handle"] for s in
                      lister.call("io.sockd.List")["sockets"]}
        assert listed == set(handles)
    finally:
        close_all(clients)
    # Every scoped handle goes with its connection, and sockd serves on.
    lister = sockd.client()
    wait_until(lambda: lister.call("io.sockd.List")["sockets"] == [],
               timeout=LIVENESS * 2, what="1000 scoped handles to close")
    assert_served(sockd)
    # All those slots are free again: as many new connections get in.
    again = []
    try:
        for _ in range(n):
            again.append(Client(sockd.path, timeout=LIVENESS * 2))
        for c in again:
            c.send_raw(GETINFO)
        for c in again:
            assert "io.sockd" in Client.result(c.recv_msg())["interfaces"]
    finally:
        close_all(again)


# -- 5. a client killed in the middle of a waiting call -----------------------

# Parks three waiting calls on three connections: a Recv on a handle
# connected to the test's listener, an Accept on a listening handle, and a
# Poll on both. It reports the handles once sockd has read every call
# (TIOCOUTQ: no byte unread by the peer) and none has been answered.
KILLED_CLIENT = r"""
import fcntl, json, struct, sys, termios, time
sys.path.insert(0, sys.argv[2])
from varlink import Client
path, port = sys.argv[1], int(sys.argv[3])
a = Client(path)
h = a.call("io.sockd.Socket", {"family": "AF_INET", "type": "SOCK_STREAM"})[
    "handle"]
a.call("io.sockd.Connect", {"handle": h, "address": {"host": "127.0.0.1",
                                                     "port": port}})
l = a.call("io.sockd.Socket", {"family": "AF_INET", "type": "SOCK_STREAM"})[
    "handle"]
a.call("io.sockd.Bind", {"handle": l, "address": {"host": "127.0.0.1",
                                                  "port": 0}})
a.call("io.sockd.Listen", {"handle": l})
lport = a.call("io.sockd.GetSockName", {"handle": l})["address"]["port"]
b = Client(path)
c = Client(path)
a.send_call("io.sockd.Recv", {"handle": h, "bufsize": 4096})
b.send_call("io.sockd.Accept", {"handle": l})
c.send_call("io.sockd.Poll", {"items": [
    {"handle": h, "events": ["POLLIN"]}, {"handle": l, "events": ["POLLIN"]}]})

def unread(x):
    return struct.unpack("i", fcntl.ioctl(x.sock.fileno(), termios.TIOCOUTQ,
                                          b"\0" * 4))[0]

deadline = time.monotonic() + 10
while any(unread(x) for x in (a, b, c)):
    if time.monotonic() > deadline:
        sys.exit("sockd did not read the calls within 10 s")
    time.sleep(0.005)
answered = [x.pending(0.2) for x in (a, b, c)]
print(json.dumps({"handle": h, "listener": l, "lport": lport,
                  "answered": answered}), flush=True)
sys.stdin.read()
"""


def test_client_killed_during_waiting_calls(sockd):
    lst = py_listener()
    root = sockd.client()
    keep = new_socket(root, "AF_INET", "SOCK_DGRAM")
    p = subprocess.Popen([PYTHON, "-c", KILLED_CLIENT, sockd.path, TESTS,
                          str(lst.getsockname()[1])],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        line = p.stdout.readline()
        assert line, f"the client failed (status {p.wait()})"
        info = json.loads(line)
        peer, _ = lst.accept()
        listed = {s["handle"] for s in root.call("io.sockd.List")["sockets"]}
        assert {info["handle"], info["listener"]} <= listed
        assert info["answered"] == [False, False, False], \
            f"calls answered instead of waiting: {info}"
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdin.close()
        p.stdout.close()
        lst.close()
    gone = {info["handle"], info["listener"]}

    def handles_gone():
        now = {s["handle"] for s in root.call("io.sockd.List")["sockets"]}
        return not (now & gone)
    wait_until(handles_gone, timeout=LIVENESS,
               what="the killed client's handles to go")
    assert peer_eof(peer), "the peer never saw EOF"
    peer.close()
    assert connect_refused(info["lport"])
    assert [s["handle"] for s in root.call("io.sockd.List")["sockets"]] == \
        [keep]
    assert_served(sockd)


# -- 6. a connection flood from one uid ---------------------------------------

def test_connection_flood_from_one_uid(start_sockd):
    limit = 50
    d = start_sockd("--max-connections-per-uid", str(limit))
    conns = [Client(d.path, timeout=LIVENESS) for _ in range(limit)]
    try:
        for c in conns:
            c.send_raw(GETINFO)
        for c in conns:
            assert "io.sockd" in Client.result(c.recv_msg())["interfaces"]

        def refused(c):
            try:
                msgs = c.wait_closed(LIVENESS)
            except TimeoutError:
                raise AssertionError("a connection over the per-uid limit "
                                     "stays open") from None
            assert len(msgs) == 1, msgs
            assert msgs[0].get("error") == PROTOCOL_ERROR, msgs
            assert "too many connections for this uid" in \
                msgs[0]["parameters"]["message"], msgs
        with Client(d.path, timeout=LIVENESS) as extra:
            refused(extra)
        # Another uid is not held up by root's flood.
        r = run_as(65534, d.path, [["org.varlink.service.GetInfo", {}]])
        assert "io.sockd" in r[0]["ok"]["interfaces"], r
        # The 50 still work.
        for c in conns:
            c.send_raw(GETINFO)
        for c in conns:
            assert "io.sockd" in Client.result(c.recv_msg())["interfaces"]
        # Closing five lets exactly five new ones in.
        close_all(conns[:5])
        del conns[:5]

        def one_more():
            c = Client(d.path, timeout=LIVENESS)
            c.send_raw(GETINFO)
            try:
                if "error" not in c.recv_msg():
                    return c
            except (ConnectionClosed, ConnectionResetError):
                pass
            c.close()
            return None
        for _ in range(5):
            conns.append(wait_until(one_more, timeout=LIVENESS,
                                    what="a free per-uid slot"))
        with Client(d.path, timeout=LIVENESS) as extra:
            refused(extra)
    finally:
        close_all(conns)


# -- 7. out of file descriptors -----------------------------------------------

def open_and_classify(path, count):
    """Open count connections, a GetInfo on each: (served, shed), where
    shed ones were closed by sockd without a reply."""
    served, shed = [], []
    conns = [Client(path, timeout=LIVENESS) for _ in range(count)]
    for c in conns:
        try:
            c.send_raw(GETINFO)
        except (BrokenPipeError, ConnectionResetError):
            pass
    for c in conns:
        try:
            msg = c.recv_msg()
        except (ConnectionClosed, ConnectionResetError):
            shed.append(c)
            continue
        except TimeoutError:
            close_all(conns)
            raise AssertionError("a connection neither served nor shed "
                                 f"within {LIVENESS} s") from None
        assert "io.sockd" in Client.result(msg)["interfaces"], msg
        served.append(c)
    return served, shed


def test_out_of_file_descriptors(start_sockd):
    d = start_sockd(prefix=["prlimit", "--nofile=64:64"])
    pid = d.proc.pid
    mark = "out of file descriptors"
    held = []
    try:
        served, shed = open_and_classify(d.path, 70)
        held = served + shed
        assert served, "no connection was served"
        assert shed, f"all {len(served)} connections were served under " \
                     f"RLIMIT_NOFILE 64"
        # Connections already open carry on; new sockets are EMFILE.
        c = served[0]
        assert "io.sockd" in c.call("org.varlink.service.GetInfo")[
            "interfaces"]
        with pytest.raises(VarlinkError) as ei:
            new_socket(c, "AF_INET", "SOCK_DGRAM")
        assert ei.value.error == "io.sockd.OSError" and \
            ei.value.params["name"] in ("EMFILE", "ENFILE"), ei.value
        # Holding ~70 connections for 2 s, with a new one knocking every
        # 0.2 s: each is shed, and sockd does not spin.
        cpu0 = cpu_seconds(pid)
        t_end = time.monotonic() + 2.0
        knocks = 0
        while time.monotonic() < t_end:
            with Client(d.path, timeout=LIVENESS) as k:
                try:
                    assert k.wait_closed(LIVENESS) == []
                except TimeoutError:
                    raise AssertionError("a new connection was neither "
                                         "served nor shed") from None
            knocks += 1
            time.sleep(0.2)         # the measuring window, not a wait
        used = cpu_seconds(pid) - cpu0
        print(f"\nout of fds: {len(served)} served, {len(shed)} shed, "
              f"{knocks} more shed; CPU {used:.3f} s over 2 s")
        assert used < 0.3, f"sockd used {used:.2f} s of CPU in 2 s while " \
                           f"out of file descriptors (spinning)"
        for c in served:
            c.send_raw(GETINFO)
        for c in served:
            assert "io.sockd" in Client.result(c.recv_msg())["interfaces"]
        assert d.stderr().count(mark) == 1, d.stderr()
        close_all(held)
        held = []
        # Descriptors free again: new connections are served.
        wait_until(lambda: open_and_classify(d.path, 1)[0],
                   timeout=LIVENESS, what="a connection served again")
        # A second spell is logged once more. (On a loaded machine the
        # closes above may reach sockd amid these connections and split
        # the spell in two: at least once more, then.)
        served, shed = open_and_classify(d.path, 70)
        held = served + shed
        assert shed
        assert d.stderr().count(mark) >= 2, d.stderr()
    finally:
        close_all(held)
    wait_until(lambda: open_and_classify(d.path, 1)[0], timeout=LIVENESS,
               what="a connection served after the second spell")


# -- 8. a close that would block ----------------------------------------------

@pytest.mark.parametrize("how", ["Close", "disconnect"])
def test_lingering_close_does_not_hold_up_others(sockd, how):
    """SO_LINGER with unsent data to a peer that does not read makes close()
    block for the linger time, even on a non-blocking socket. sockd closes
    handles on its event loop: that must not stop other clients."""
    c = Client(sockd.path, timeout=LIVENESS)
    h, peer = d_connected(c)
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.call("io.sockd.SetTimeout", {"handle": h, "timeout": 0})
    chunk = base64.b64encode(b"x" * 65536).decode()
    for _ in range(1000):
        try:
            c.call("io.sockd.Send", {"handle": h, "data": chunk})
        except VarlinkError as e:
            assert e.params.get("name") in ("EAGAIN", "EWOULDBLOCK"), e
            break
    else:
        raise AssertionError("the peer's buffers never filled")
    linger = 6
    c.call("io.sockd.SetSockOpt", {
        "handle": h, "level": "SOL_SOCKET", "option": "SO_LINGER",
        "data": base64.b64encode(struct.pack("ii", 1, linger)).decode()})
    other = sockd.client()
    if how == "Close":
        c.send_call("io.sockd.Close", {"handle": h})
    else:
        c.close()
    t0 = time.monotonic()
    try:
        info = other.call("org.varlink.service.GetInfo", timeout=2.5)
    except TimeoutError:
        raise AssertionError(
            f"another client waited {time.monotonic() - t0:.1f} s: "
            f"sockd's loop is blocked in close() of a lingering socket "
            f"(SO_LINGER {linger} s)") from None
    finally:
        peer.close()
        c.close()
    assert "io.sockd" in info["interfaces"]
