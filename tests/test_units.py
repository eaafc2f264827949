"""The systemd units: generated, verified, hardened and installed.

The build directory is the one SOCKD lives in (<builddir>/daemon/sockd).
systemd-analyze, systemd-sysusers and systemd.pc come from the Debian
package systemd; nothing here needs systemd running as PID 1.
"""
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, SOCKD

BUILDDIR = os.path.dirname(os.path.dirname(os.path.abspath(SOCKD)))
SERVICE = os.path.join(BUILDDIR, "systemd", "sockd.service")
SYSUSERS = os.path.join(BUILDDIR, "systemd", "sysusers.d", "sockd.conf")
SOCKET = os.path.join(REPO, "systemd", "sockd.socket")
CAPS = {"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"}
MAX_EXPOSURE = 2.0

# Which Debian package provides each tool the tests run.
PACKAGES = {"systemd-analyze": "systemd", "systemd-sysusers": "systemd",
            "pkg-config": "pkg-config", "make": "make"}


def tool(name):
    """The path of a tool, or a failure naming its Debian package."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install the Debian package "
                    f"{PACKAGES[name]}")
    return path


def run(argv, **kw):
    """Run argv, capturing text output; never raises on a non-zero exit."""
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=600,
                          **kw)


def make_var(name):
    """A variable of the build's Makefile, as make expands it."""
    r = run([tool("make"), "-s", "-C", BUILDDIR,
             "--eval", "print-var-%: ; @echo 'VAR:$*=$($*)'",
             f"print-var-{name}"])
    assert r.returncode == 0, r.stderr
    for line in r.stdout.splitlines():
        if line.startswith(f"VAR:{name}="):
            return line.split("=", 1)[1]
    pytest.fail(f"make printed no {name}:\n{r.stdout}{r.stderr}")


def pkg_var(name):
    """A variable of systemd.pc."""
    r = run([tool("pkg-config"), f"--variable={name}", "systemd"])
    if r.returncode != 0 or not r.stdout.strip():
        pytest.fail(f"pkg-config has no {name} for systemd: install the "
                    f"Debian package systemd\n{r.stderr}")
    return r.stdout.strip()


def settings(path):
    """A unit file's settings: {section: {key: [values, in order]}}."""
    units, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = units.setdefault(line[1:-1], {})
                continue
            assert "=" in line and section is not None, (path, line)
            key, value = line.split("=", 1)
            section.setdefault(key.strip(), []).append(value.strip())
    return units


def read_service():
    if not os.path.exists(SERVICE):
        pytest.fail(f"{SERVICE} does not exist: run make in {BUILDDIR}")
    return settings(SERVICE)


@pytest.fixture(scope="module")
def units(tmp_path_factory):
    """The generated service and the socket in a private directory, with
    ExecStart= pointing at the sockd under test (the installed path does
    not exist here, and verify checks that it does)."""
    if not os.path.exists(SOCKD):
        pytest.fail(f"sockd binary {SOCKD} does not exist (set SOCKD)")
    read_service()
    d = tmp_path_factory.mktemp("units")
    with open(SERVICE) as f:
        text = f.read()
    text, n = re.subn(r"^ExecStart=\S+",
                      f"ExecStart={os.path.abspath(SOCKD)}", text,
                      flags=re.M)
    assert n == 1, "sockd.service has no single ExecStart= line"
    (d / "sockd.service").write_text(text)
    shutil.copy(SOCKET, d / "sockd.socket")
    return d


def test_service_execstart_is_the_configured_bindir():
    service = read_service()["Service"]
    bindir = make_var("bindir")
    assert len(service["ExecStart"]) == 1
    argv = service["ExecStart"][0].split()
    assert argv[0] == os.path.join(bindir, "sockd")
    assert not re.search(r"@[a-z_]+@", open(SERVICE).read()), \
        "an @var@ was left unsubstituted"


def test_service_and_socket_agree_on_the_control_socket():
    service = read_service()["Service"]
    socket = settings(SOCKET)["Socket"]
    argv = service["ExecStart"][0].split()
    assert argv[1:] == ["--socket", "/run/sockd/sockd.sock"]
    assert socket["ListenStream"] == ["/run/sockd/sockd.sock"]
    assert socket["SocketMode"] == ["0666"]
    assert socket["DirectoryMode"] == ["0755"]
    assert settings(SOCKET)["Install"]["WantedBy"] == ["sockets.target"]
    # It lives in the service's RuntimeDirectory, which must outlive the
    # service for the socket unit's sake.
    assert service["RuntimeDirectory"] == ["sockd"]
    assert service["RuntimeDirectoryPreserve"] == ["yes"]


def test_verify_prints_nothing(units):
    r = run([tool("systemd-analyze"), "verify", "--man=no",
             str(units / "sockd.service"), str(units / "sockd.socket")],
            cwd=units)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_exposure_is_low_enough(units):
    r = run([tool("systemd-analyze"), "security", "--offline=true",
             "--no-pager", str(units / "sockd.service")], cwd=units)
    m = re.search(r"Overall exposure level for sockd\.service: "
                  r"([0-9]+(?:\.[0-9]+)?)", r.stdout)
    assert m, f"no overall exposure level in:\n{r.stdout}{r.stderr}"
    assert float(m.group(1)) <= MAX_EXPOSURE, r.stdout


def test_service_settings():
    units = read_service()
    service = units["Service"]
    assert service["Type"] == ["notify"]
    assert service["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert int(service["FileDescriptorStoreMax"][-1]) > 0
    assert service["User"] == ["sockd"]
    assert service["Group"] == ["sockd"]
    assert service["LimitNOFILE"] == ["524288"]
    for key in ("CapabilityBoundingSet", "AmbientCapabilities"):
        assert len(service[key]) == 1, key
        assert set(service[key][0].split()) == CAPS, key
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp",
                "PrivateDevices", "MemoryDenyWriteExecute",
                "LockPersonality", "RestrictSUIDSGID", "RestrictRealtime"):
        assert service[key] == ["yes"], key
    assert service["ProtectSystem"] == ["strict"]
    assert service["SystemCallFilter"][0] == "@system-service"
    assert set(service["RestrictAddressFamilies"][0].split()) == {
        "AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_BLUETOOTH",
        "AF_PACKET"}
    # Socket activation without making the service depend on the socket.
    assert "sockd.socket" in units["Unit"]["After"]
    assert "sockd.socket" not in units["Unit"].get("Requires", [])
    assert units["Install"]["Also"] == ["sockd.socket"]


def test_make_install_puts_units_where_systemd_pc_says(tmp_path):
    unitdir = pkg_var("systemdsystemunitdir")
    sysusersdir = pkg_var("sysusersdir")
    assert make_var("systemdsystemunitdir") == unitdir, \
        "the build was configured with another --with-systemdsystemunitdir"
    assert make_var("sysusersdir") == sysusersdir, \
        "the build was configured with another --with-sysusersdir"
    dest = tmp_path / "dest"
    r = run([tool("make"), "-s", "-C", BUILDDIR, "install",
             f"DESTDIR={dest}"])
    assert r.returncode == 0, r.stdout + r.stderr

    def installed(path):
        return os.path.join(dest, path.lstrip("/"))

    service = installed(os.path.join(unitdir, "sockd.service"))
    assert open(service).read() == open(SERVICE).read()
    assert open(installed(os.path.join(unitdir, "sockd.socket"))).read() \
        == open(SOCKET).read()
    conf = installed(os.path.join(sysusersdir, "sockd.conf"))
    assert open(conf).read() == \
        open(os.path.join(REPO, "systemd", "sockd.sysusers")).read()
    # ExecStart= names the sockd that the same install put in place.
    argv = settings(service)["Service"]["ExecStart"][0].split()
    assert os.access(installed(argv[0]), os.X_OK), argv[0]


def test_sysusers_entry_creates_the_sockd_user(tmp_path):
    if not os.path.exists(SYSUSERS):
        pytest.fail(f"{SYSUSERS} does not exist: run make in {BUILDDIR}")
    (tmp_path / "etc").mkdir()
    r = run([tool("systemd-sysusers"), f"--root={tmp_path}", SYSUSERS])
    assert r.returncode == 0, r.stdout + r.stderr
    users = {}
    with open(tmp_path / "etc" / "passwd") as f:
        for line in f:
            fields = line.rstrip("\n").split(":")
            users[fields[0]] = fields
    assert "sockd" in users, users
    _, _, uid, gid, gecos, _, shell = users["sockd"]
    assert 0 < int(uid) < 1000, "not a system uid"
    assert gecos == "sockd socket broker"
    assert shell.endswith("nologin")
    groups = {}
    with open(tmp_path / "etc" / "group") as f:
        for line in f:
            fields = line.rstrip("\n").split(":")
            groups[fields[0]] = fields
    assert groups["sockd"][2] == gid, "the user's group is not sockd"
