"""Independent varlink implementations: the Go varlink library's IDL parser
and client (tests/go/) against proto/io.sockd.varlink and a running sockd."""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import IDL, REPO


@pytest.fixture(scope="module")
def go_bins():
    go = shutil.which("go")
    if go is None:
        pytest.fail("go is not installed (apt-get install golang-go "
                    "golang-github-varlink-go-dev)")
    tmp = tempfile.mkdtemp(prefix="sockd-go-")
    out = os.path.join(tmp, "bin") + "/"
    os.makedirs(out)
    env = dict(os.environ, GOPATH="/usr/share/gocode", GO111MODULE="off",
               GOCACHE=os.path.join(tmp, "cache"), GOFLAGS="")
    p = subprocess.run([go, "build", "-o", out, "./tests/go/..."], cwd=REPO,
                       env=env, capture_output=True, timeout=300)
    if p.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.fail("go build ./tests/go/... failed:\n"
                    + p.stderr.decode(errors="replace"))
    bins = {n: os.path.join(out, n) for n in ("idlcheck", "vlclient")}
    for n, path in bins.items():
        assert os.access(path, os.X_OK), f"go build made no {n}"
    yield bins
    shutil.rmtree(tmp, ignore_errors=True)


def run(argv, timeout=60):
    return subprocess.run(argv, capture_output=True, timeout=timeout)


def test_idlcheck_accepts_the_idl(go_bins):
    p = run([go_bins["idlcheck"], IDL])
    assert p.returncode == 0, (p.stdout + p.stderr).decode()


def test_idlcheck_accepts_the_served_description(go_bins, sockd):
    desc = sockd.client().call("org.varlink.service.GetInterfaceDescription",
                               {"interface": "io.sockd"})["description"]
    path = os.path.join(sockd.tmpdir, "served.varlink")
    with open(path, "w", encoding="utf-8") as f:
        f.write(desc)
    p = run([go_bins["idlcheck"], path])
    assert p.returncode == 0, (p.stdout + p.stderr).decode()


@pytest.mark.parametrize("mutation", ["drop-method", "uppercase-interface",
                                      "syntax"])
def test_idlcheck_rejects_broken_idl(go_bins, tmpdir_short, mutation):
    with open(IDL, encoding="utf-8") as f:
        text = f.read()
    if mutation == "drop-method":
        lines = text.split("\n")
        i = next(i for i, ln in enumerate(lines)
                 if ln.startswith("method List("))
        text = "\n".join(lines[:i] + lines[i + 1:])
    elif mutation == "uppercase-interface":
        assert "interface io.sockd" in text
        text = text.replace("interface io.sockd", "interface io.Sockd", 1)
    else:
        text = text.replace("method Close(", "method Close((", 1)
    path = os.path.join(tmpdir_short, "broken.varlink")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    p = run([go_bins["idlcheck"], path])
    assert p.returncode != 0, p.stdout.decode()


def test_vlclient_against_sockd(go_bins, sockd):
    p = run([go_bins["vlclient"], sockd.path])
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 0, out
    assert "FAIL" not in p.stdout.decode()
    # It left nothing behind on its connection.
    assert sockd.client().call("io.sockd.List")["sockets"] == []


def test_vlclient_fails_without_a_daemon(go_bins, tmpdir_short):
    p = run([go_bins["vlclient"], os.path.join(tmpdir_short, "none.sock")])
    assert p.returncode != 0
