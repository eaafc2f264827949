#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets into tests/fuzz/corpus/.

Run from anywhere; rewrites the seeds it knows and leaves other files
alone. Seeds are small and each shows one thing: a real call for every
method of proto/io.sockd.varlink, client streams of pipelined calls,
addresses of every family both ways,
frames split and upgraded, base64 texts, and the policies of the
sockd.policy(5) examples.
"""
import json
import os
import re
import socket
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def call(method, params=None, **flags):
    msg = {"method": method}
    if params is not None:
        msg["parameters"] = params
    msg.update(flags)
    return json.dumps(msg, separators=(",", ":"))


INET = {"family": "AF_INET", "host": "127.0.0.1", "port": 8080}
INET6 = {"family": "AF_INET6", "host": "::1", "port": 443,
         "flowinfo": 0, "scope_id": 0}
UNIX = {"family": "AF_UNIX", "path": "/run/app.sock"}

# One or more real calls per method, by the IDL's method names.
CALLS = {
    "Socket": [{"family": "AF_INET6", "type": "SOCK_STREAM"},
               {"family": "AF_UNIX", "type": "SOCK_DGRAM", "proto": 0,
                "persistent": True, "name": "web"}],
    "Bind": [{"handle": 1, "address": INET},
             {"handle": 2, "address": {"path": "@abstract"}}],
    "Listen": [{"handle": 1, "backlog": 128}, {"handle": 1}],
    "Accept": [{"handle": 1}],
    "Connect": [{"handle": 1, "address": INET6},
                {"handle": 1, "address": {"host": "example.org",
                                          "port": 80}}],
    "ConnectEx": [{"handle": 3, "address": UNIX}],
    "Send": [{"handle": 1, "data": "aGVsbG8=", "flags": ["MSG_DONTWAIT"]}],
    "SendAll": [{"handle": 1, "data": "aGVsbG8gd29ybGQ="}],
    "SendTo": [{"handle": 1, "data": "", "address": INET,
                "flags": ["MSG_CONFIRM", "MSG_NOSIGNAL"]}],
    "Recv": [{"handle": 1, "bufsize": 4096, "flags": ["MSG_PEEK"]}],
    "RecvFrom": [{"handle": 1, "bufsize": 65536}],
    "SetTimeout": [{"handle": 1, "timeout": 2.5}, {"handle": 1,
                                                   "timeout": None}],
    "GetTimeout": [{"handle": 1}],
    "SetBlocking": [{"handle": 1, "blocking": False}],
    "SetSockOpt": [{"handle": 1, "level": "SOL_SOCKET",
                    "option": "SO_REUSEADDR", "value": 1},
                   {"handle": 1, "level": "IPPROTO_TCP",
                    "option": "TCP_CONGESTION", "data": "cmVubw=="}],
    "GetSockOpt": [{"handle": 1, "level": "IPPROTO_IPV6",
                    "option": "IPV6_V6ONLY"},
                   {"handle": 1, "level": "SOL_SOCKET",
                    "option": "SO_BINDTODEVICE", "buflen": 16}],
    "Shutdown": [{"handle": 1, "how": "SHUT_WR"}],
    "Close": [{"handle": 1}],
    "GetSockName": [{"handle": 1}],
    "GetPeerName": [{"handle": 1}],
    "FileNo": [{"handle": 1, "detach": True}],
    "Poll": [{"items": [{"handle": 1, "events": ["POLLIN", "POLLPRI"]},
                        {"handle": 2, "events": ["POLLOUT"]}],
              "timeout": 0.5}],
    "Attach": [{"handle": 1}],
    "GetAddrInfo": [{"host": "localhost", "port": 80, "family": "AF_INET",
                     "type": "SOCK_STREAM", "proto": 6,
                     "flags": ["AI_CANONNAME", "AI_ADDRCONFIG"]}],
    "GetNameInfo": [{"address": INET6, "flags": ["NI_NUMERICHOST"]}],
    "GetHostByAddr": [{"host": "127.0.0.1"}],
    "List": [None],
    "Find": [{"name": "web"}],
}


def calls():
    idl = open(os.path.join(TOP, "proto", "io.sockd.varlink")).read()
    methods = re.findall(r"^method (\w+)\(", idl, re.M)
    missing = set(methods) - set(CALLS)
    assert not missing, f"no seed call for {missing}"
    for m in methods:
        for i, p in enumerate(CALLS[m]):
            flags = {"upgrade": True} if m == "Attach" else {}
            write("call", f"{m}-{i}", call("io.sockd." + m, p, **flags))
    write("call", "GetInfo", call("org.varlink.service.GetInfo"))
    write("call", "GetInterfaceDescription",
          call("org.varlink.service.GetInterfaceDescription",
               {"interface": "io.sockd"}))
    write("call", "oneway", call("io.sockd.Close", {"handle": 9},
                                 oneway=True))
    write("call", "more", call("io.sockd.List", None, more=True))
    write("call", "null-params", '{"method":"io.sockd.List",'
          '"parameters":null}')
    write("call", "extension", '{"method":"io.sockd.List",'
          '"org.example.trace":"x"}')
    write("call", "unknown-method", call("io.sockd.Frobnicate", {}))
    write("call", "unknown-interface", call("org.example.Ping"))
    write("call", "unknown-param", call("io.sockd.Close",
                                        {"handle": 1, "force": True}))
    write("call", "wrong-type", call("io.sockd.Recv",
                                     {"handle": "1", "bufsize": 1.5}))
    write("call", "flags-not-strings", call("io.sockd.Send", {
        "handle": 1, "data": "", "flags": [1, "MSG_PEEK"]}))
    write("call", "null-required", call("io.sockd.Recv", {
        "handle": None, "bufsize": 1}))
    write("call", "null-optional", call("io.sockd.GetAddrInfo", {
        "host": None, "port": None, "flags": None}))
    write("call", "int-for-float", call("io.sockd.Poll", {
        "items": [], "timeout": 1}))
    write("call", "float-for-int", call("io.sockd.Listen", {
        "handle": 1, "backlog": 1e3}))
    write("call", "two-flags", call("io.sockd.List", None, more=True,
                                    oneway=True))
    write("call", "utf8", '{"method":"io.sockd.Find","parameters":'
          '{"name":"caf\u00e9 \\u00e9\\ud83d\\ude00"}}')
    write("call", "bad-utf8", b'{"method":"io.sockd.Find","parameters":'
          b'{"name":"\xc0\xaf"}}')
    write("call", "deep", '{"method":"x.Y","parameters":{"a":' +
          "[" * 40 + "]" * 40 + "}}")
    write("call", "big-number", '{"method":"io.sockd.Close",'
          '"parameters":{"handle":123456789012345678901234567890}}')


def conns():
    """Byte streams of one client: pipelined calls, as sockc sends them."""
    d = os.path.join(HERE, "corpus", "call")
    every = [open(os.path.join(d, f), "rb").read() for f in sorted(
        os.listdir(d)) if f[0].isupper()]
    write("conn", "every-method", b"\0".join(every) + b"\0")
    calls = [call("org.varlink.service.GetInfo"),
             call("org.varlink.service.GetInterfaceDescription",
                  {"interface": "io.sockd"}),
             call("io.sockd.Socket", {"family": "AF_INET",
                                      "type": "SOCK_STREAM"}),
             call("io.sockd.Close", {"handle": 1}, oneway=True),
             call("io.sockd.Attach", {"handle": 1}),
             call("io.sockd.Nope"), call("org.example.Nope")]
    write("conn", "pipelined", "\0".join(calls) + "\0")
    write("conn", "introspection", "\0".join(calls[:2]) + "\0")
    write("conn", "protocol-error", calls[0] + "\0{\"method\":1}\0" +
          calls[0] + "\0")
    write("conn", "unfinished", calls[0] + "\0" + calls[2])
    write("conn", "too-long", call("io.sockd.Find", {"name": "x" * 5000}) +
          "\0")
    write("conn", "empty-frame", "\0")


def sockaddr_in(host, port):
    return struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + \
        socket.inet_pton(socket.AF_INET, host) + bytes(8)


def sockaddr_in6(host, port, flow=0, scope=0):
    return struct.pack("<H", socket.AF_INET6) + struct.pack(">HI", port,
                                                            flow) + \
        socket.inet_pton(socket.AF_INET6, host) + struct.pack("<I", scope)


def addrs():
    fam = {"AF_UNSPEC": 0, "AF_INET": 1, "AF_INET6": 2, "AF_UNIX": 3,
           "AF_BLUETOOTH": 4, "AF_PACKET": 5, "other": 7}
    objs = {
        "inet": ("AF_UNSPEC", INET),
        "inet-any": ("AF_INET", {"host": "", "port": 0}),
        "inet-broadcast": ("AF_INET", {"host": "<broadcast>", "port": 9}),
        "inet-name": ("AF_INET", {"host": "example.org", "port": 80}),
        "inet-bad-port": ("AF_INET", {"host": "1.2.3.4", "port": 65536}),
        "inet6": ("AF_UNSPEC", {"family": "AF_INET6",
                                "host": "2001:db8::1", "port": 80,
                                "flowinfo": 5, "scope_id": 0}),
        "inet6-scoped": ("AF_INET6", {"host": "fe80::1%lo", "port": 22}),
        "inet6-scope-number": ("AF_INET6", {"host": "fe80::1%1", "port": 1,
                                            "scope_id": 1}),
        "inet6-mapped": ("AF_INET6", {"host": "::ffff:10.0.0.1",
                                      "port": 53}),
        "unix": ("AF_UNIX", {"path": "/run/sockd/sockd.sock"}),
        "unix-abstract": ("AF_UNSPEC", {"family": "AF_UNIX",
                                        "path": "@sockd\u0000x"}),
        "unix-unnamed": ("AF_UNIX", {"path": ""}),
        "unix-long": ("AF_UNIX", {"path": "/" + "x" * 107}),
        "bt-rfcomm": ("AF_BLUETOOTH", {"bdaddr": "01:23:45:67:89:AB",
                                       "channel": 3}),
        "bt-l2cap": ("AF_UNSPEC", {"family": "AF_BLUETOOTH",
                                   "bdaddr": "aa:bb:cc:dd:ee:ff",
                                   "psm": 4097}),
        "packet": ("AF_UNSPEC", {"family": "AF_PACKET"}),
        "wrong-family": ("AF_INET", {"family": "AF_INET6", "host": "::",
                                     "port": 1}),
        "unknown-field": ("AF_UNIX", {"path": "/x", "port": 1}),
        "other-socket": ("other", {"path": "/x"}),
    }
    for name, (f, o) in objs.items():
        write("addr", "json-" + name,
              bytes([fam[f]]) + json.dumps(o).encode())
    raw = {
        "inet": sockaddr_in("192.0.2.1", 80),
        "inet6": sockaddr_in6("fe80::1", 8080, 0x12345, 2),
        "unix": struct.pack("<H", socket.AF_UNIX) + b"/tmp/s\0",
        "unix-abstract": struct.pack("<H", socket.AF_UNIX) + b"\0name",
        "unix-unnamed": struct.pack("<H", socket.AF_UNIX),
        "unix-full": struct.pack("<H", socket.AF_UNIX) + b"/" + b"p" * 107,
        "bt-rfcomm": struct.pack("<H", 31) + bytes([6, 5, 4, 3, 2, 1]) +
        bytes([7, 0]),
        "bt-l2cap": struct.pack("<HH", 31, 4097) +
        bytes([6, 5, 4, 3, 2, 1]) + bytes(4),
        "packet": struct.pack("<H", socket.AF_PACKET) + bytes(18),
        "short-inet": sockaddr_in("10.0.0.1", 1)[:6],
    }
    for name, b in raw.items():
        write("addr", "raw-" + name, b"\x80" + b)


def frames():
    msgs = [call("io.sockd.List"), call("io.sockd.Close", {"handle": 1})]
    stream = "\0".join(msgs).encode() + b"\0"
    # [limit index | upgrade after << 4] [repeat - 1] [n] [read sizes]
    # [stream]
    write("frame", "one-read", bytes([14, 0, 0]) + stream)
    write("frame", "bytewise", bytes([14, 0, 1, 0]) + stream)
    write("frame", "mixed-reads", bytes([14, 0, 3, 2, 30, 7]) + stream)
    write("frame", "partial-last", bytes([14, 0, 2, 5, 11]) + stream +
          b'{"method":')
    write("frame", "over-limit", bytes([8, 0, 1, 9]) + stream)
    write("frame", "empty-messages", bytes([3, 0, 1, 1]) + b"\0\0a\0\0")
    att = call("io.sockd.Attach", {"handle": 1}, upgrade=True).encode()
    write("frame", "upgrade", bytes([14 | 1 << 4, 0, 2, 16, 3]) + att +
          b"\0raw bytes\0with NULs\0")
    write("frame", "large-reads", bytes([12, 0, 2, 200, 3]) +
          b"x" * 1500 + b"\0" + stream)
    write("frame", "repeated", bytes([6, 31, 2, 7, 13]) + stream)


def b64s():
    for name, text in [("empty", ""), ("one", "Zg=="), ("two", "Zm8="),
                       ("three", "Zm9v"), ("six", "Zm9vYmFy"),
                       ("all", "+/+/AAECAwQFBgcICQ=="),
                       ("bad-bits", "Zh=="), ("bad-pad", "Z==="),
                       ("pad-inside", "Zg==Zg=="), ("bad-char", "Zm9v!A==")]:
        write("b64", name, text)
    write("b64", "binary", bytes(range(256)))


def policies():
    man = open(os.path.join(TOP, "man", "sockd.policy.5")).read()
    for name, text in re.findall(
            r'^\.\\" example-begin (\S+)\n(.*?)^\.\\" example-end',
            man, re.M | re.S):
        write("policy", "man-" + name, text.replace("\\-", "-"))
    full = """/* Every key, for the fuzzer to start from. */
{
  "rules": [
    {
      "name": "all",
      "users": [1000, "root", "*"],
      "groups": [100, "root"],
      "families": ["*", "AF_NETLINK"],
      "types": ["SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW"],
      "bind": ["0.0.0.0:80", "[::]:8000-8080", "*:443", "10.0.0.0/8",
               "[fe80::/10]", "unix:/run/app/", "unix:@app"],
      "connect": ["*", "127.0.0.1/32:5432", "unix:/run/db.sock"],
      "resolve": ["*", "*.example.org", "localhost"],
      "options": ["SO_BINDTODEVICE", "TCP_CONGESTION", "IP_TRANSPARENT"],
      "fileno": "share",
      "max_handles": 10,
      "max_connections": 2
    },
    { "groups": [0], "fileno": true }  // a comment
  ]
}
"""
    write("policy", "every-key", full)
    # After a NUL: uid - 1 and gid - 1 (big-endian, 2 bytes each), then
    # requests: an op (0 socket, 1 bind, 2 connect, 3 resolve, 4 fileno,
    # 5 sockopt) and its bytes, as fuzz_requests reads them.
    ipv6_lo = socket.inet_pton(socket.AF_INET6, "::1")
    req = bytes([0x03, 0xE7, 0, 0,
                 0, 4, 3, 6,
                 5, 0, 3,
                 3, 13]) + b"x.example.org" + \
        bytes([2, 1]) + ipv6_lo + bytes([0, 80]) + \
        bytes([1, 2]) + b"/run/app/x.sock"
    write("policy", "every-key-requests", full.encode() + b"\0" + req)
    sandbox = open(os.path.join(HERE, "corpus", "policy",
                                "man-sandbox"), "rb").read()
    req = bytes([0x05, 0xDB, 0, 0,
                 2, 0, 127, 0, 0, 1, 0x15, 0x38,
                 4, 1,
                 0, 4, 3, 0,
                 3, 9]) + b"localhost"
    write("policy", "sandbox-requests", sandbox + b"\0" + req)
    write("policy", "bad-key", '{"rules": [], "rulez": 1}')
    write("policy", "bad-json", '{"rules": [ { "users": [1] }\n')
    write("policy", "bad-pattern", '{"rules": [{"users": ["*"], '
          '"bind": ["300.0.0.1:80", "[::1"]}]}')
    write("policy", "empty", '{"rules": []}')


calls()
conns()
addrs()
frames()
b64s()
policies()
