"""libsockc as a user gets it: installed, found with pkg-config, linked.

Once per session the build directory under test (the one whose
daemon/sockd SOCKD names) is installed with `make install DESTDIR=TMP`,
and the C programs in tests/lib/ are compiled against the installed header
and library with `pkg-config --define-prefix --cflags --libs sockc` (and
with -fsanitize=address,undefined when the build directory was configured
with --enable-asan). Each program then runs against its own sockd and must
exit 0; its one-line-per-check output is shown when it does not.
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import REPO, SOCKD, SANITIZER_MARKS

LIB_TESTS = os.path.join(REPO, "tests", "lib")
PROGRAMS = sorted(os.path.basename(p)[:-2]
                  for p in glob.glob(os.path.join(LIB_TESTS, "test-lib-*.c")))
CC = os.environ.get("CC", "cc")
SAN_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all",
             "-fno-omit-frame-pointer"]
RUN_DEADLINE = 30


def run(argv, **kw):
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kw)


def builddir():
    """<builddir> of SOCKD = <builddir>/daemon/sockd."""
    d = os.path.dirname(os.path.dirname(os.path.realpath(SOCKD)))
    if not os.path.exists(os.path.join(d, "Makefile")):
        pytest.fail(f"SOCKD={SOCKD} is not <builddir>/daemon/sockd of a "
                    f"configured build directory (no {d}/Makefile)")
    return d


def asan_build(d):
    """True when the build directory was configured with --enable-asan."""
    with open(os.path.join(d, "Makefile")) as f:
        for line in f:
            if re.match(r"(SAN_CFLAGS|CFLAGS)\s*=.*-fsanitize=address", line):
                return True
    return False


def configure_version():
    with open(os.path.join(REPO, "configure.ac")) as f:
        m = re.search(r"AC_INIT\(\s*\[[^\]]*\]\s*,\s*\[([^\]]+)\]", f.read())
    assert m, "no version in configure.ac's AC_INIT"
    return m.group(1)


class Install:
    """One `make install DESTDIR=` and the programs built against it."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.build = builddir()
        self.asan = asan_build(self.build)
        self.destdir = os.path.join(tmp, "root")
        r = run(["make", "-s", "-C", self.build, "install",
                 f"DESTDIR={self.destdir}"])
        if r.returncode != 0:
            pytest.fail(f"make install DESTDIR={self.destdir} failed:\n"
                        f"{r.stdout[-5000:]}")
        pcs = glob.glob(os.path.join(self.destdir, "**", "pkgconfig",
                                     "sockc.pc"), recursive=True)
        assert len(pcs) == 1, f"installed sockc.pc: {pcs}"
        self.pcdir = os.path.dirname(pcs[0])
        self.env = dict(os.environ, PKG_CONFIG_PATH=self.pcdir)
        self.env.pop("PKG_CONFIG_SYSROOT_DIR", None)
        # The .pc says prefix=/usr/local; --define-prefix makes pkgconf
        # take the prefix from where the .pc file is (<prefix>/lib/
        # pkgconfig). PKG_CONFIG_SYSROOT_DIR would also prefix json-c's
        # -I/usr/include/json-c (from Requires.private), which is wrong.
        self.cflags = self.pkg_config("--cflags").split()
        self.libs = self.pkg_config("--libs").split()
        self.libdir = self.pkg_config("--variable=libdir").strip()
        self.includedir = self.pkg_config("--variable=includedir").strip()
        for d in (self.libdir, self.includedir):
            assert os.path.realpath(d).startswith(
                os.path.realpath(self.destdir)), \
                f"pkg-config --define-prefix gave {d}, outside {self.destdir}"
        assert f"-I{self.includedir}" in self.cflags, self.cflags
        assert f"-L{self.libdir}" in self.libs, self.libs
        self.header = os.path.join(self.includedir, "sockc.h")
        self.library = os.path.join(self.libdir, "libsockc.so.0")
        assert os.path.exists(self.header), "sockc.h not installed"
        assert os.path.exists(self.library), "libsockc.so.0 not installed"
        self.run_env = dict(os.environ, LD_LIBRARY_PATH=self.libdir)
        self.run_env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        self.exes = {}
        self.errors = {}
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
            for name, (exe, err) in zip(PROGRAMS,
                                        ex.map(self.compile, PROGRAMS)):
                if exe:
                    self.exes[name] = exe
                else:
                    self.errors[name] = err

    def pkg_config(self, *args):
        r = subprocess.run(["pkg-config", "--define-prefix", *args, "sockc"],
                           env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        assert r.returncode == 0, \
            f"pkg-config {' '.join(args)} sockc: {r.stderr}"
        return r.stdout

    def compile(self, name):
        exe = os.path.join(self.tmp, name)
        argv = [CC, "-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror",
                *(SAN_FLAGS if self.asan else []), *self.cflags,
                os.path.join(LIB_TESTS, name + ".c"), "-o", exe,
                *self.libs, "-pthread", "-lm"]
        r = run(argv, env=self.env)
        if r.returncode != 0:
            return None, " ".join(argv) + "\n" + r.stdout
        return exe, None


@pytest.fixture(scope="session")
def installed():
    tmp = tempfile.mkdtemp(prefix="sockc-install-", dir="/tmp")
    try:
        yield Install(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("program", PROGRAMS)
def test_program(installed, sockd, program):
    if program in installed.errors:
        pytest.fail(f"{program} does not compile against the installed "
                    f"library:\n{installed.errors[program]}", pytrace=False)
    try:
        r = subprocess.run([installed.exes[program], sockd.path],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           env=installed.run_env, timeout=RUN_DEADLINE)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{program} ran longer than {RUN_DEADLINE} s:\n"
                    f"{e.stdout or ''}", pytrace=False)
    out = r.stdout + ("\n--- stderr ---\n" + r.stderr if r.stderr else "")
    failed = [line for line in r.stdout.splitlines()
              if line.startswith("not ok")]
    summary = "\n".join(failed) if failed else "(no check failed)"
    if r.returncode != 0 or failed:
        pytest.fail(f"{program} exited {r.returncode}; failed checks:\n"
                    f"{summary}\n\nfull output:\n{out}", pytrace=False)
    lines = r.stdout.strip().splitlines()
    if not lines or not re.fullmatch(r"\d+ passed, 0 failed", lines[-1]):
        pytest.fail(f"{program}: no \"N passed, 0 failed\" at the end:\n"
                    f"{out}", pytrace=False)
    if any(m in r.stderr for m in SANITIZER_MARKS):
        pytest.fail(f"{program}: sanitizer report:\n{out}", pytrace=False)


def test_programs_run_installed_library(installed):
    """The programs load the installed libsockc, not one from the build."""
    exe = next(iter(installed.exes.values()), None)
    assert exe, installed.errors
    r = run(["ldd", exe], env=installed.run_env)
    m = re.search(r"libsockc\.so\.0 => (\S+)", r.stdout)
    assert m, r.stdout
    assert os.path.realpath(m.group(1)) == \
        os.path.realpath(installed.library), r.stdout


def test_programs_sanitized_like_the_build(installed):
    """On an --enable-asan build the programs carry ASan and UBSan too."""
    exe = next(iter(installed.exes.values()), None)
    assert exe, installed.errors
    r = run(["nm", exe])
    has_asan = "__asan_init" in r.stdout
    has_ubsan = "__ubsan_handle" in r.stdout
    assert (has_asan, has_ubsan) == (installed.asan, installed.asan), \
        f"asan build: {installed.asan}; program has ASan {has_asan}, " \
        f"UBSan {has_ubsan}"


def public_functions(header):
    with open(header) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    return sorted(set(re.findall(r"\b(sockc_[a-z_]+)\s*\(", text)))


def test_exports_only_sockc_symbols(installed):
    r = run(["nm", "-D", "--defined-only", installed.library])
    assert r.returncode == 0, r.stdout
    names = [line.split()[-1] for line in r.stdout.splitlines()
             if line.strip()]
    assert names, r.stdout
    others = [n for n in names if not n.startswith("sockc_")]
    assert not others, f"exported beyond sockc_*: {others}"
    missing = set(public_functions(installed.header)) - set(names)
    assert not missing, f"declared in sockc.h but not exported: {missing}"


def test_every_public_function_is_tested(installed):
    sources = ""
    for p in PROGRAMS:
        with open(os.path.join(LIB_TESTS, p + ".c")) as f:
            sources += f.read()
    untested = [fn for fn in public_functions(installed.header)
                if not re.search(r"\b" + fn + r"\s*\(", sources)]
    assert not untested, f"no program in tests/lib calls {untested}"


def test_soname(installed):
    r = run(["readelf", "-d", installed.library])
    assert r.returncode == 0, r.stdout
    assert re.search(r"\(SONAME\)\s+Library soname: \[libsockc\.so\.0\]",
                     r.stdout), r.stdout
    # The development symlink points at the same library.
    assert os.path.realpath(os.path.join(installed.libdir, "libsockc.so")) \
        == os.path.realpath(installed.library)


def test_pkg_config_version(installed):
    assert installed.pkg_config("--modversion").strip() == \
        configure_version()


@pytest.mark.parametrize("lang,flags", [
    ("c", ["-std=c99", "-pedantic", "-D_POSIX_C_SOURCE=200809L"]),
    ("c", ["-std=gnu11"]),
    ("c++", ["-std=c++11", "-pedantic"]),
])
def test_header_stands_alone(installed, lang, flags):
    """sockc.h compiles on its own, as C and as C++, warning-free."""
    compiler = {"c": CC, "c++": os.environ.get("CXX", "c++")}[lang]
    if shutil.which(compiler) is None:
        pytest.skip(f"no {compiler}")
    r = subprocess.run([compiler, "-x", lang, *flags, "-Wall", "-Wextra",
                        "-Werror", "-fsyntax-only", *installed.cflags, "-"],
                       input="#include <sockc.h>\nint sockc_test_unit;\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=installed.env)
    assert r.returncode == 0, r.stdout
