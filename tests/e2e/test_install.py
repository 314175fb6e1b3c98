"""
Installation (issue 13, part B): `make install` / `make uninstall` with
PREFIX and DESTDIR, the two man pages rendered by `man -l`, the example
configuration passing `gatehouse -t`, and `make` on a machine without the
build dependencies naming the missing packages.
"""

import os
import stat
import subprocess

import pytest

import ghutil

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy", reason="gatehouse's own build")

REPO = ghutil.REPO


def make(*args, timeout=120):
    return subprocess.run(["make", "-s", "-C", REPO] + list(args), capture_output=True,
                          text=True, timeout=timeout)


def tree(root):
    out = set()
    for d, _, files in os.walk(root):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


@pytest.mark.parametrize("prefix,conf", [
    ("/usr/local", "usr/local/etc/gatehouse/gatehouse.conf"),
    ("/usr", "etc/gatehouse/gatehouse.conf"),      # FHS: /usr's configuration is in /etc
])
def test_install_uninstall(tmp_path, prefix, conf):
    dest = tmp_path / "stage"
    p = prefix.lstrip("/")
    r = make("install", "DESTDIR=%s" % dest, "PREFIX=%s" % prefix)
    assert r.returncode == 0, r.stdout + r.stderr
    assert tree(dest) == {
        p + "/sbin/gatehouse",
        p + "/share/man/man8/gatehouse.8",
        p + "/share/man/man5/gatehouse.conf.5",
        p + "/share/doc/gatehouse/gatehouse.conf.example",
        p + "/share/doc/gatehouse/README.md",
        p + "/share/doc/gatehouse/configuration.md",
        conf,
    }
    b = dest / p / "sbin/gatehouse"
    assert stat.S_IMODE(b.stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / conf).stat().st_mode) == 0o644
    v = subprocess.run([str(b), "--version"], capture_output=True, text=True, timeout=10)
    assert v.returncode == 0 and v.stdout.startswith("gatehouse ")
    # the installed example configuration is a valid one
    t = subprocess.run([str(b), "-t", "-c", str(dest / conf)], capture_output=True, text=True,
                       timeout=10)
    assert t.returncode == 0 and t.stdout == "configuration OK\n", t.stderr

    # a second install keeps an operator's configuration
    (dest / conf).write_text("# mine\n")
    r = make("install", "DESTDIR=%s" % dest, "PREFIX=%s" % prefix)
    assert r.returncode == 0
    assert (dest / conf).read_text() == "# mine\n"

    # uninstall: everything goes but the changed configuration
    r = make("uninstall", "DESTDIR=%s" % dest, "PREFIX=%s" % prefix)
    assert r.returncode == 0, r.stdout + r.stderr
    assert tree(dest) == {conf}
    assert "kept" in r.stdout
    # an unchanged configuration goes too
    make("install", "DESTDIR=%s" % dest, "PREFIX=%s" % prefix)
    (dest / conf).unlink()
    make("install", "DESTDIR=%s" % dest, "PREFIX=%s" % prefix)
    r = make("uninstall", "DESTDIR=%s" % dest, "PREFIX=%s" % prefix)
    assert r.returncode == 0
    assert tree(dest) == set()


@pytest.mark.parametrize("page,title,words", [
    ("gatehouse.8", "GATEHOUSE(8)", ["SYNOPSIS", "SIGNALS", "PRIVILEGES", "CAP_NET_BIND_SERVICE",
                                     "gatehouse.conf(5)"]),
    ("gatehouse.conf.5", "GATEHOUSE.CONF(5)", ["GLOBAL", "FRONTEND", "BACKEND", "unix@PATH",
                                               "tcp_keepalive", "source ADDRESS|client",
                                               "defer_accept", "chroot DIR"]),
])
def test_man_page_renders(page, title, words):
    env = dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "--warnings", "-l", os.path.join(REPO, "man", page)],
                       capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr          # groff warnings: a roff mistake
    out = r.stdout
    assert out.splitlines()[0].startswith(title), out[:200]
    for w in words:
        assert w in out, w


def test_make_names_missing_packages(tmp_path):
    # -nostdinc hides every system header, as on a machine without them
    r = make("BUILD=%s" % (tmp_path / "b"), "CFLAGS=-nostdinc")
    assert r.returncode != 0
    assert "cannot build, missing build dependencies" in r.stderr
    for pkg in ("libc6-dev (for <stdio.h>)", "libssl-dev (for <openssl/ssl.h>)",
                "libpcre2-dev (for <pcre2.h>)"):
        assert pkg in r.stderr, r.stderr
    assert "run 'make deps'" in r.stderr
    assert not (tmp_path / "b" / "src").exists()    # nothing was compiled


def test_make_checks_once_with_headers(tmp_path):
    r = subprocess.run(["scripts/check-deps.sh", "gcc"], cwd=REPO, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == ""
    r = subprocess.run(["scripts/check-deps.sh", "no-such-cc"], cwd=REPO, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert "the C compiler 'no-such-cc' is missing (Debian package: gcc)" in r.stderr
