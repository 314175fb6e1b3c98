"""
Fixtures for the gatehouse end-to-end suite.

  gatehouse      factory: gatehouse(config_text) -> running Gatehouse (see
                 ghutil.Gatehouse); every instance is stopped at teardown
                 (SIGTERM, then SIGKILL), and the test fails if it crashed,
                 exited on its own, needed SIGKILL, or (ASan build) printed
                 a sanitizer report
  origin         a running HttpOrigin named "o1"
  make_origin    factory for more HttpOrigins: make_origin("name")
  make_echo      factory for TcpEchoOrigins
  port           a free port for a frontend

Every test also fails (at teardown) if any HttpOrigin recorded a protocol
error during it - a malformed request, or one a proxy should not forward
(see origins.py) - unless the test took them itself with
origins.take_protocol_errors().
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ghutil  # noqa: E402
import origins  # noqa: E402
from origins import HttpOrigin, TcpEchoOrigin  # noqa: E402


# ---- soak tests and skips -------------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "soak: heavy benchmark-like run (10k connections, 1 GiB bodies, "
        "3,000-request distributions); deselected unless -m selects it (make soak)")


def pytest_collection_modifyitems(config, items):
    """Without -m, soak tests are deselected (make e2e); `-m soak` runs them."""
    if config.getoption("markexpr", ""):
        return
    keep, drop = [], []
    for it in items:
        (drop if it.get_closest_marker("soak") else keep).append(it)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# A skip must not hide a broken install (a missing tool, binary or rlimit):
# it fails unless it is an explicit opt-out.  Opt-outs: GATEHOUSE_ALLOW_SKIPS=1
# (e.g. running the harness self-tests without a binary) and the HAProxy
# self-test mode, where skipping what cannot be translated is the design.
SKIPS_ALLOWED = os.environ.get("GATEHOUSE_ALLOW_SKIPS") == "1" or ghutil.IMPL == "haproxy"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if SKIPS_ALLOWED or not rep.skipped or hasattr(rep, "wasxfail"):
        return
    reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
    rep.outcome = "failed"
    rep.longrepr = ("unexpected skip (%s): %s\nInstall what is missing (make deps) or set "
                    "GATEHOUSE_ALLOW_SKIPS=1 to allow skips." % (rep.when, reason))


def pytest_report_header(config):
    if ghutil.IMPL == "haproxy":
        return "gatehouse e2e: HARNESS SELF-TEST against %s" % ghutil.HAPROXY
    b = os.environ.get("GATEHOUSE_BIN") or os.path.join(ghutil.REPO, "build", "gatehouse")
    return "gatehouse e2e: binary %s%s%s" % (
        b, "" if os.path.exists(b) else
        " (MISSING: tests will skip%s)" % ("" if SKIPS_ALLOWED else ", and fail: "
                                         "GATEHOUSE_ALLOW_SKIPS is not set"),
        ", ASan mode" if ghutil.ASAN else "")


@pytest.fixture(autouse=True)
def origins_saw_no_protocol_error():
    """Set up first, torn down last: after the origins have closed."""
    yield
    errs = origins.take_protocol_errors()
    if errs:
        pytest.fail("origin protocol errors (the proxy sent something a strict server "
                    "rejects or a proxy must not forward):\n  " + "\n  ".join(errs),
                    pytrace=False)


@pytest.fixture
def gatehouse(tmp_path):
    started = []

    def start(config, wait=True, name=None):
        binary = ghutil.gatehouse_bin()
        g = ghutil.Gatehouse(binary, config, str(tmp_path),
                             name=name or "gatehouse%d" % len(started))
        started.append(g)
        return g.start(wait=wait)

    yield start
    problems = []
    for g in started:
        p = g.teardown()
        if p:
            problems.append("\n".join(p) + "\n--- stderr tail ---\n" + g.stderr_tail())
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def make_origin():
    made = []

    def make(name="o%d", **kw):
        if "%d" in name:
            name = name % (len(made) + 1)
        o = HttpOrigin(name, **kw)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


@pytest.fixture
def origin(make_origin):
    return make_origin("o1")


@pytest.fixture
def make_echo():
    made = []

    def make(name="e%d"):
        if "%d" in name:
            name = name % (len(made) + 1)
        o = TcpEchoOrigin(name)
        made.append(o)
        return o

    yield make
    for o in made:
        o.close()


@pytest.fixture
def port():
    return ghutil.free_port()
