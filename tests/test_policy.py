"""The default policy: root and the daemon's own uid may do everything,
every other uid gets EACCES on io.sockd calls."""
import errno
import os
import shutil
import stat


from helpers import new_socket, run_as

NOBODY = 65534
OTHER = 65533

def assert_eacces(r):
    assert r.get("error") == "io.sockd.OSError", r
    assert r["parameters"]["errno"] == errno.EACCES
    assert r["parameters"]["name"] == "EACCES"
    assert r["parameters"]["message"]


def test_other_uid_is_refused(sockd):
    assert os.getuid() == 0, "the policy tests run as root"
    st = os.stat(os.path.dirname(sockd.path))
    assert stat.S_IMODE(st.st_mode) & 0o005 == 0o005
    root = sockd.client()
    mine = new_socket(root, persistent=True, name="root-only")
    res = run_as(NOBODY, sockd.path, [
        ["org.varlink.service.GetInfo", None],
        ["io.sockd.Socket", {"family": "AF_INET", "type": "SOCK_STREAM"}],
        ["io.sockd.List", None],
        ["io.sockd.GetSockName", {"handle": mine}],
        ["io.sockd.Close", {"handle": mine}],
        ["io.sockd.GetAddrInfo", {"host": "127.0.0.1", "port": 80}],
        ["io.sockd.Socket", {"family": "AF_UNIX", "type": "SOCK_DGRAM",
                             "persistent": True}],
    ])
    # Introspection is not io.sockd: allowed.
    assert "io.sockd" in res[0]["ok"]["interfaces"]
    for r in res[1:]:
        assert_eacces(r)
    # Nothing happened to root's socket, and nothing was created.
    listing = root.call("io.sockd.List")["sockets"]
    assert [(s["handle"], s["name"]) for s in listing] == \
        [(mine, "root-only")]


def test_refused_calls_are_still_checked_for_parameters(sockd):
    res = run_as(NOBODY, sockd.path, [
        ["io.sockd.NoSuchMethod", None],
        ["io.sockd.Socket", {"family": "AF_INET", "type": "SOCK_STREAM"}],
    ])
    assert res[0].get("error") == "org.varlink.service.MethodNotFound", res
    assert_eacces(res[1])


def test_daemon_uid_may_do_everything(start_sockd, tmpdir_short):
    os.chown(tmpdir_short, NOBODY, NOBODY)
    setpriv = shutil.which("setpriv")
    assert setpriv
    d = start_sockd(prefix=[setpriv, f"--reuid={NOBODY}",
                            f"--regid={NOBODY}", "--clear-groups"],
                    tmpdir=tmpdir_short)
    assert os.stat(d.path).st_uid == NOBODY
    res = run_as(NOBODY, d.path, [
        ["io.sockd.Socket", {"family": "AF_INET", "type": "SOCK_DGRAM",
                             "persistent": True, "name": "nobody's"}],
        ["io.sockd.List", None],
    ])
    assert res[0]["ok"]["handle"] > 0, res
    h = res[0]["ok"]["handle"]
    assert [(s["handle"], s["owner"]) for s in
            res[1]["ok"]["sockets"]] == [(h, NOBODY)]
    # Root may do everything too, including to nobody's socket.
    root = d.client()
    r = new_socket(root)
    owners = {s["handle"]: s["owner"] for s in
              root.call("io.sockd.List")["sockets"]}
    assert owners.get(r) == 0
    assert root.call("io.sockd.GetSockName", {"handle": h})["address"][
        "family"] == "AF_INET"
    # A third uid may not.
    res = run_as(OTHER, d.path, [
        ["io.sockd.Socket", {"family": "AF_INET", "type": "SOCK_DGRAM"}],
        ["io.sockd.GetSockName", {"handle": h}],
    ])
    for x in res:
        assert_eacces(x)
    # And nobody does not see root's socket.
    res = run_as(NOBODY, d.path, [["io.sockd.List", None],
                                  ["io.sockd.Close", {"handle": r}]])
    assert [s["handle"] for s in res[0]["ok"]["sockets"]] == [h]
    assert res[1].get("error") == "io.sockd.OSError"
    assert res[1]["parameters"]["errno"] == errno.EBADF
