"""HTTP/2 protections (proxy/h2_client.c): the frontend's h2_* limits and
what a hostile client cannot do.

  h2_max_streams N      SETTINGS_MAX_CONCURRENT_STREAMS (default 100); the
                        streams beyond are refused (RST_STREAM REFUSED_STREAM
                        or PROTOCOL_ERROR) and never reach a server
  h2_max_header_list S  a bigger decoded header block: 431, RST_STREAM or
                        GOAWAY, never a server (default: max_header_size)
  h2_header_table S     SETTINGS_HEADER_TABLE_SIZE (default 4096)
  h2_max_resets N       rapid reset (CVE-2023-44487): more than N client
                        RST_STREAMs per 10 s: GOAWAY ENHANCE_YOUR_CALM, close
  h2_max_control N      more than N SETTINGS / PING / PRIORITY / WINDOW_UPDATE
                        / empty DATA / CONTINUATION frames per 10 s: GOAWAY
                        ENHANCE_YOUR_CALM, close

and without a directive: an HPACK bomb and a CONTINUATION flood end in
bounded time and memory; `timeout client` closes an idle connection with a
GOAWAY and ends a stream whose window the client keeps at 0, the other
streams going on.

HAProxy self-test: the h2_* directives that HAProxy 2.6 has
(tune.h2.max-concurrent-streams, tune.h2.header-table-size >= 4096) are
translated; the others skip (haproxy_compat.Unsupported).
"""

import time

import pytest

from ghutil import ASAN, SLACK, RssSampler
from h2util import (ENHANCE_YOUR_CALM, HEADER_TABLE_SIZE, MAX_CONCURRENT_STREAMS, NO_ERROR,
                    PROTOCOL_ERROR, REFUSED_STREAM, H2Client, err_name, hpack_indexed,
                    hpack_literal, raw_frame)
from test_h2 import config, haproxy_differs, origin_targets

RSS_ATTACK_BOUND_MIB = 64 if ASAN else 32      # growth allowed during an attack


def refused(s):
    return s.reset in (REFUSED_STREAM, PROTOCOL_ERROR)


def assert_refused_big_head(c, s):
    """A header block over the limit: 431, a RST_STREAM or a GOAWAY."""
    assert s.status == 431 or s.reset is not None or c.goaways, \
        "want 431, RST_STREAM or GOAWAY: %r (%s)" % (s, c.summary())
    assert s.status in (None, 431), s


def fresh_get(port, path="/echo?after"):
    with H2Client(port) as c:
        r = c.get(path)
        assert r.status == 200, c.summary()


def flood(c, one, limit, batch=50, seconds=10.0, pause=0.005):
    """Sends one() (bytes) up to limit times, batch at a time, until a
    GOAWAY or the close; returns how many were sent.  The short pause
    after each batch lets a GOAWAY arrive before the next one, so the count
    says when the server reacted."""
    sent = 0
    deadline = time.monotonic() + seconds * SLACK
    while sent < limit and not c.closed and not c.goaways and time.monotonic() < deadline:
        with c.batch():
            for _ in range(batch):
                c.send_raw(one())
        sent += batch
        c.poll(pause)
    return sent


def assert_calmed(c, sent, at_least):
    """GOAWAY ENHANCE_YOUR_CALM and a close, not before at_least frames."""
    assert c.wait_closed(3 * SLACK), "still open after the flood: %s" % c.summary()
    assert c.goaways, "closed without a GOAWAY after %d frames: %s" % (sent, c.summary())
    assert c.goaway[1] == ENHANCE_YOUR_CALM, c.summary()
    assert sent > at_least, "GOAWAY after only %d frames (limit %d)" % (sent, at_least)


# ---- stream limits and advertised settings -----------------------------------------

def test_default_settings_advertised_and_100_streams(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        st = c.wait_settings()
        assert st.get(MAX_CONCURRENT_STREAMS) == 100, st
        assert st.get(HEADER_TABLE_SIZE, 4096) == 4096, st
        with c.batch():
            sids = [c.request("GET", "/delay/500?i=%d" % i) for i in range(110)]
        got = c.responses(sids, timeout=20 * SLACK)
        ok = [s for s in got if s.status == 200]
        assert len(ok) == 100 and all(refused(s) for s in got[100:]), \
            [(s.id, s.status, err_name(s.reset)) for s in got if s.status != 200]
        assert c.goaway is None
    assert len(origin_targets(origin)) == 100


def test_h2_max_streams(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr], fe="h2_max_streams 10"))
    with H2Client(port) as c:
        assert c.wait_settings().get(MAX_CONCURRENT_STREAMS) == 10
        with c.batch():
            sids = [c.request("GET", "/delay/500?i=%d" % i) for i in range(15)]
        got = c.responses(sids, timeout=10 * SLACK)
        assert [s.status for s in got[:10]] == [200] * 10, got
        assert all(refused(s) for s in got[10:]), got[10:]
        # the connection is still good: ten more fit
        with c.batch():
            more = [c.request("GET", "/echo?more=%d" % i) for i in range(10)]
        assert [s.status for s in c.responses(more)] == [200] * 10
        assert c.goaway is None
    assert origin.stats.max_delaying <= 10
    assert len(origin_targets(origin)) == 20


@pytest.mark.parametrize("size", [1024, 8192])
def test_h2_header_table(gatehouse, origin, port, size):
    """Advertised; the client's encoder keeps to it and the server's decoder
    stays in step over many requests (HAProxy takes 4096..65536 only)."""
    gatehouse(config(port, [origin.addr], fe="h2_header_table %d" % size))
    with H2Client(port) as c:
        assert c.wait_settings().get(HEADER_TABLE_SIZE) == size
        for i in range(20):
            hs = [("x-rep-%d" % (i % 5), "v%d-" % (i % 5) + "r" * 300), ("x-i", str(i))]
            r = c.get("/echo?i=%d" % i, hs)
            assert r.status == 200, c.summary()
            seen = {k.lower(): v for k, v in r.json()["headers"]}
            assert seen["x-rep-%d" % (i % 5)] == hs[0][1] and seen["x-i"] == str(i)


# ---- header list size, HPACK bomb, CONTINUATION flood ---------------------------------------

def test_header_list_over_the_default_limit(gatehouse, origin, port):
    """Default bound: the frontend's max_header_size (15k)."""
    gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        r = c.get("/echo?small", [("x-pad-%d" % i, "p" * 1000) for i in range(8)])
        assert r.status == 200, c.summary()
    with H2Client(port) as c:
        sid = c.request("GET", "/echo?big", [("x-pad-%d" % i, "p" * 1000) for i in range(64)])
        assert_refused_big_head(c, c.response(sid))
    fresh_get(port)
    assert origin_targets(origin) == ["/echo?small", "/echo?after"]


def test_h2_max_header_list(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr], fe="h2_max_header_list 4k"))
    with H2Client(port) as c:
        r = c.get("/echo?fits", [("x-pad", "p" * 3000)])
        assert r.status == 200, c.summary()
    with H2Client(port) as c:
        assert_refused_big_head(c, c.response(c.request("GET", "/echo?over",
                                                        [("x-pad", "p" * 6000)])))
    fresh_get(port)
    assert origin_targets(origin) == ["/echo?fits", "/echo?after"]


def test_hpack_bomb(gatehouse, origin, port):
    """A 5 KB header block that decodes to 20 MB: one 4000-byte field in the
    dynamic table, then 5000 one-byte references to it."""
    g = gatehouse(config(port, [origin.addr]))
    fresh_get(port, "/echo?warm")
    with RssSampler(g.pid) as rss:
        with H2Client(port) as c:
            c.wait_settings()
            sid = c.new_stream_id()
            block = (c.encode(c.request_headers("GET", "/echo?bomb"))
                     + hpack_literal("x-bomb", "B" * 4000) + hpack_indexed(62) * 5000)
            c.send_headers(sid, block=block, end_stream=True)
            assert_refused_big_head(c, c.response(sid))
    assert rss.growth_mib < RSS_ATTACK_BOUND_MIB, "RSS grew %.1f MiB" % rss.growth_mib
    fresh_get(port)
    assert g.alive()
    assert origin_targets(origin) == ["/echo?warm", "/echo?after"]


@pytest.mark.parametrize("kind", [
    # HAProxy resets the connection, with or without a GOAWAY first
    # (GOAWAY INTERNAL_ERROR) depending on how the frames arrive
    pytest.param("growing", marks=haproxy_differs("may reset the connection without a GOAWAY",
                                                  strict=False)),
    pytest.param("empty", marks=haproxy_differs("accepts endless empty CONTINUATION frames "
                                                "(bounded memory, but no end)")),
])
def test_continuation_flood(gatehouse, origin, port, kind):
    """HEADERS without END_HEADERS, then CONTINUATION frames without end:
    1 KiB of fields each (the block grows past any limit) or empty ones
    (only a frame count can stop them).  GOAWAY and close, in bounded time
    and memory."""
    g = gatehouse(config(port, [origin.addr]))
    frag = hpack_literal("x-c", "c" * 1000, index=False) if kind == "growing" else b""
    with RssSampler(g.pid) as rss:
        with H2Client(port) as c:
            c.wait_settings()
            sid = c.new_stream_id()
            c.send_headers(sid, c.request_headers("GET", "/echo?cont"), end_stream=True,
                           end_headers=False)
            t0 = time.monotonic()
            sent = flood(c, lambda: raw_frame(9, 0, sid, frag), 20000, batch=100 if not frag else 10,
                         seconds=10)
            assert c.wait_closed(3 * SLACK), "still open after %d CONTINUATION frames: %s" \
                % (sent, c.summary())
            took = time.monotonic() - t0
            assert c.goaways, "closed without a GOAWAY: %s" % c.summary()
    assert took < 5 * SLACK, "the flood went on for %.1fs (%d frames)" % (took, sent)
    assert rss.growth_mib < RSS_ATTACK_BOUND_MIB, "RSS grew %.1f MiB" % rss.growth_mib
    fresh_get(port)
    assert origin_targets(origin) == ["/echo?after"]


# ---- rapid reset and control-frame floods ----------------------------------------------------

def _reset_flood(c, limit, batch=20):
    """HEADERS then RST_STREAM(CANCEL) at once, batch streams per write;
    returns the number of streams opened (and reset)."""
    opened = 0
    while opened < limit and not c.closed and not c.goaways:
        with c.batch():
            for _ in range(batch):
                c.rst(c.request("GET", "/echo?rr"))
        opened += batch
        c.poll(0.005)
    return opened


def test_rapid_reset_is_not_forwarded(gatehouse, origin, port):
    """Requests reset right after their HEADERS are (almost all) not sent to
    the server."""
    g = gatehouse(config(port, [origin.addr]))
    with H2Client(port) as c:
        c.wait_settings()
        opened = _reset_flood(c, 1000)
        c.poll(0.5)
    origin.settle()
    assert origin.stats.heads <= opened // 10, \
        "%d of %d reset streams reached the origin" % (origin.stats.heads, opened)
    assert g.alive()
    fresh_get(port)


def test_h2_max_resets(gatehouse, origin, port):
    gatehouse(config(port, [origin.addr], fe="h2_max_resets 50"))
    with H2Client(port) as c:       # under the limit: nothing happens
        c.wait_settings()
        _reset_flood(c, 40)
        r = c.get("/echo?under")
        assert r.status == 200 and not c.goaways, c.summary()
    with H2Client(port) as c:
        c.wait_settings()
        opened = _reset_flood(c, 2000)
        assert_calmed(c, opened, 50)
        assert opened <= 200, "%d resets before the GOAWAY" % opened
    origin.settle()
    assert origin.stats.heads <= 1 + opened // 10
    fresh_get(port)


def _control(kind, c, sid):
    if kind == "settings":
        return raw_frame(4, 0, 0)
    if kind == "ping":
        return raw_frame(6, 0, 0, b"flood!!!")
    if kind == "priority":
        return raw_frame(2, 0, sid, (0).to_bytes(4, "big") + b"\x0f")
    if kind == "window_update":
        return raw_frame(8, 0, 0, (1).to_bytes(4, "big"))
    if kind == "empty_data":
        return raw_frame(0, 0, sid, b"")
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["settings", "ping", "priority", "window_update", "empty_data"])
def test_h2_max_control(gatehouse, origin, port, kind):
    gatehouse(config(port, [origin.addr], fe="h2_max_control 200"))

    def setup(c):
        c.wait_settings()
        if kind == "empty_data":     # a request whose body is still to come
            return c.request("POST", "/echo?slow", end_stream=False)
        r = c.get("/echo?first")      # PRIORITY goes to this (closed) stream
        assert r.status == 200
        return r.id

    with H2Client(port) as c:         # under the limit: nothing happens
        sid = setup(c)
        flood(c, lambda: _control(kind, c, sid), 100)
        if kind == "empty_data":
            c.send_data(sid, b"end", end_stream=True)
            assert c.response(sid).status == 200, c.summary()
        assert c.get("/echo?under").status == 200 and not c.goaways, c.summary()
    with H2Client(port) as c:
        sid = setup(c)
        sent = flood(c, lambda: _control(kind, c, sid), 3000)
        assert_calmed(c, sent, 150)    # 200 minus the client's own few
        assert sent <= 1000, "%d frames before the GOAWAY" % sent
    fresh_get(port)


# ---- timeouts ------------------------------------------------------------------------------

def test_idle_connection_gets_goaway(gatehouse, origin, port):
    """timeout client after the last stream: GOAWAY naming that stream,
    then the close."""
    gatehouse(config(port, [origin.addr], fe="timeout header 5s\ntimeout client 1s"))
    with H2Client(port) as c:
        assert c.get("/echo").status == 200
        t0 = time.monotonic()
        g = c.wait_goaway(3 * SLACK)
        took = time.monotonic() - t0
        assert g is not None, "no GOAWAY on an idle connection: %s" % c.summary()
        assert g[:2] == (1, NO_ERROR), (g, c.summary())
        assert 0.8 <= took <= 1.0 + 1.5 * SLACK, "GOAWAY %.2fs after the last stream" % took
        assert c.wait_closed(2 * SLACK)


def test_silent_connection_gets_goaway(gatehouse, origin, port):
    """A connection that sent its preface and nothing else (timeout header
    and timeout client alike: whichever applies)."""
    gatehouse(config(port, [origin.addr], fe="timeout header 1s\ntimeout client 1s"))
    with H2Client(port) as c:
        t0 = time.monotonic()
        c.wait_settings()
        assert c.wait_closed(1.0 + 2 * SLACK), "silent connection still open: %s" % c.summary()
        took = time.monotonic() - t0
        assert 0.8 <= took <= 1.0 + 2 * SLACK, took
        assert c.goaway is not None and c.goaway[0] == 0, c.summary()


def test_zero_window_stream_times_out_alone(gatehouse, origin, port):
    """The client never opens one stream's window again: that stream ends
    (RST_STREAM, or cut short) after timeout client while the other streams
    of the connection keep being served."""
    gatehouse(config(port, [origin.addr], fe="timeout client 1s"))
    with H2Client(port, stream_window=65535, keep_body=False) as c:
        c.wait_settings()
        t0 = time.monotonic()
        stalled = c.request("GET", "/bytes/%d" % (64 << 20), stalled=True)
        statuses = []
        while time.monotonic() - t0 < 2.5 * SLACK or not c.stream_over(stalled):
            if time.monotonic() - t0 > 10 * SLACK:
                break
            statuses.append(c.get("/echo?t=%d" % len(statuses)).status)
            c.poll(0.1)
        s = c.stream(stalled)
        assert s.done, "the zero-window stream is still open after %.1fs: %r" % (
            time.monotonic() - t0, s)
        assert s.data_len < 64 << 20
        took = s.t_end - t0
        assert 0.8 <= took <= 1.0 + 1.5 * SLACK, "zero-window stream ended after %.2fs" % took
        assert statuses and set(statuses) == {200}, statuses
        assert c.get("/echo?last").status == 200 and not c.goaways, c.summary()
