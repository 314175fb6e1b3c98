"""The command line: --version, --help, -t on good and bad configurations."""

import re

import pytest

from ghutil import run_cli

GOOD = """\
# the configuration from the contract, every directive once
global {
    workers 1                 # auto = one per CPU
    max_connections 100000
    timeout drain 10s
    tune.bufsize 16k
}
frontend web {
    bind 127.0.0.1:8080
    mode http                 # or tcp
    timeout header 10s
    timeout client 60s
    max_body_size 1m
    forward_headers x-forwarded-for x-forwarded-proto x-forwarded-host forwarded
    use_backend api if path prefix /api/ or host == api.example.com
    use_backend api if ( method == POST or method == PUT ) and not header(X-Debug) ~ ^on$
    use_backend api unless src in 10.0.0.0/8 192.168.0.0/16
    use_backend app if query(v) != 2 and cookie(sid) contains abc and path suffix .json
    use_backend app if method in GET HEAD
    default_backend app
}
frontend raw {
    bind 127.0.0.1:8081
    mode tcp
    default_backend tcpback
}
backend app {
    mode http
    balance roundrobin
    server app1 127.0.0.1:9001
    server app2 127.0.0.1:9002 weight 2
    timeout connect 2s
    timeout server 30s
    timeout tunnel 1h
}
backend api {
    mode http
    balance roundrobin
    server api1 127.0.0.1:9003
    timeout connect 250ms
    timeout server 5m
}
backend tcpback {
    mode tcp
    balance roundrobin
    server t1 127.0.0.1:9004
}
"""


def _out(p):
    return (p.stdout + p.stderr).decode("utf-8", "replace")


def test_version():
    p = run_cli(["--version"])
    assert p.returncode == 0
    assert re.match(r"^gatehouse \S+", p.stdout.decode()), p.stdout


def test_help():
    p = run_cli(["--help"])
    assert p.returncode == 0
    out = _out(p)
    assert "usage" in out.lower()
    assert "-c" in out and "-t" in out


def test_unknown_option_fails():
    p = run_cli(["--no-such-option"])
    assert p.returncode != 0


def test_check_good_config(tmp_path):
    f = tmp_path / "good.conf"
    f.write_text(GOOD)
    p = run_cli(["-t", "-c", str(f)])
    assert p.returncode == 0, _out(p)
    assert "configuration OK" in _out(p)


def test_check_missing_file(tmp_path):
    p = run_cli(["-t", "-c", str(tmp_path / "nope.conf")])
    assert p.returncode == 1
    assert "nope.conf" in _out(p)


BASE_FE = "frontend web {\n    bind 127.0.0.1:8080\n    mode http\n%s    default_backend app\n}\n"
BASE_BE = "backend app {\n    mode http\n    balance roundrobin\n    server a 127.0.0.1:9001\n%s}\n"
G = "global {\n    workers 1\n}\n"          # lines 1-3; frontend starts at line 4


def fe(extra="", be_extra=""):
    return G + BASE_FE % extra + BASE_BE % be_extra


# (name, text, line of the error; None = any line)
BAD = [
    ("unknown_directive", fe("    frobnicate yes\n"), 7),
    ("bare_number_duration", fe("    timeout client 30\n"), 7),
    ("bad_duration_unit", fe("    timeout header 10x\n"), 7),
    ("bad_size", fe("    max_body_size lots\n"), 7),
    ("bad_address", fe("    bind 127.0.0.1:notaport\n"), 7),
    ("bad_mode", fe("    mode smtp\n"), 7),
    ("unknown_backend", fe("    use_backend nowhere if path prefix /x\n"), 7),
    ("unknown_default_backend", G + BASE_FE.replace("default_backend app", "default_backend nope") % ""
     + BASE_BE % "", 7),
    ("bad_fetch", fe("    use_backend app if bogus == 1\n"), 7),
    ("bad_operator", fe("    use_backend app if path startswith /x\n"), 7),
    ("bad_regex", fe("    use_backend app if path ~ \"[a-\"\n"), 7),
    ("unbalanced_paren", fe("    use_backend app if ( path prefix /x\n"), 7),
    ("dangling_and", fe("    use_backend app if path prefix /x and\n"), 7),
    ("bad_cidr", fe("    use_backend app if src in 10.0.0.0/99\n"), 7),
    ("bad_forward_header", fe("    forward_headers x-real-ip\n"), 7),
    ("bad_balance", fe("", "    balance sideways\n"), 13),
    ("bad_weight", fe("", "    server b 127.0.0.1:9002 weight -3\n"), 13),
    ("bad_workers", "global {\n    workers many\n}\n" + BASE_FE % "" + BASE_BE % "", 2),
    ("unknown_block", G + "listener x {\n}\n" + BASE_FE % "" + BASE_BE % "", 4),
    ("missing_close_brace", G + BASE_FE % "" + BASE_BE % "" + "backend b {\n    mode http\n", None),
    ("stray_close_brace", G + "}\n" + BASE_FE % "" + BASE_BE % "", 4),
    ("duplicate_backend", fe() + BASE_BE % "", None),
]


@pytest.mark.parametrize("name,text,line", BAD, ids=[b[0] for b in BAD])
def test_check_bad_config(tmp_path, name, text, line):
    f = tmp_path / ("%s.conf" % name)
    f.write_text(text)
    p = run_cli(["-t", "-c", str(f)])
    out = _out(p)
    assert p.returncode == 1, "exit %d for a bad config; output:\n%s" % (p.returncode, out)
    assert "configuration OK" not in out
    errs = re.findall(r"^(.*?):(\d+):(\d+): error: (.+)$", out, re.M)
    assert errs, "no FILE:LINE:COL: error: line in:\n%s" % out
    files = {e[0] for e in errs}
    assert all(fn.endswith("%s.conf" % name) for fn in files), files
    assert all(int(e[2]) >= 1 for e in errs)
    if line is not None:
        assert line in [int(e[1]) for e in errs], \
            "expected an error on line %d, got:\n%s" % (line, out)


def test_check_reports_several_errors(tmp_path):
    f = tmp_path / "multi.conf"
    f.write_text(fe("    timeout client 30\n    frobnicate yes\n"))
    p = run_cli(["-t", "-c", str(f)])
    assert p.returncode == 1
    lines = {int(m) for m in re.findall(r"^.*?:(\d+):\d+: error:", _out(p), re.M)}
    assert {7, 8} <= lines, _out(p)


def test_run_refuses_bad_config(tmp_path):
    """Without -t a bad config also exits 1 instead of starting."""
    f = tmp_path / "bad.conf"
    f.write_text(fe("    frobnicate yes\n"))
    p = run_cli(["-c", str(f)], timeout=10)
    assert p.returncode == 1
    assert re.search(r"bad\.conf:7:\d+: error:", _out(p)), _out(p)
