"""An HTTP/2 stream that waits for a filter (FLT_WAIT) does not stall the
other streams of its connection, even with DATA of it still coming.

A stream parked on a filter (here `limit ... delay`, which makes a request
over its rate wait until the rate lets it through) does not drain its
buffer.  DATA of it that its buffer has no room for - a client that sends
its body before our SETTINGS reached it uses the default 64 KiB window,
more than the buffer takes - used to be held at the connection, whose
input then stood still until the wait was over.  It now waits in the
stream's own overflow (h2_client.c, h2s_parked).

The wait is a minute (rate 1/m), so "stream 1 still waits" is checked at
the origin (its request has not arrived), not from a clock; the deadlines
only bound a failure.  test_waf_h2_judge.py has the WAF's case.

Since DATA no longer wakes a parked stream, nothing credits it back while
the stream waits; a stream reset then must still give it back to the
connection's window (the second test).
"""

import pytest

import ghutil
from ghutil import SLACK, simple_http_config
from h2util import H2Client
from httpraw import request

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="limit delay is gatehouse's")

HDRS = [("user-agent", "e2e-h2"), ("accept", "*/*"),
        ("content-type", "application/octet-stream")]


def test_other_streams_flow_while_one_is_delayed_by_a_limit(gatehouse, origin, port):
    gatehouse(simple_http_config(port, [origin.addr],
                                 frontend_extra="http_request limit d if path prefix /delayed")
              + "limit d {\n    key path\n    rate 1/m\n    burst 2\n    delay 1\n}\n")
    # the burst's first request passes at once ...
    r = request(port, "GET", "/delayed", [("Host", "test.local")], b"")
    assert r.status == 200
    assert origin.stats.heads == 1
    body = b"x" * (256 * 1024)
    with H2Client(port, timeout=60) as c:
        # ... the second waits for the rate (a minute), its body coming
        with c.batch():
            sid = c.request("POST", "/delayed", HDRS + [("content-length", str(len(body)))],
                            end_stream=False)
            assert c.stream(sid).send_window >= 65535
            c.send_data(sid, body[:65535])
        fast = c.request("GET", "/fast", [("user-agent", "e2e-h2"), ("accept", "*/*")])
        r = c.response(fast, timeout=30 * SLACK)
        assert r.status == 200, r
        assert r.json()["target"] == "/fast"
        # stream 1 still waits: its request never reached the origin
        assert origin.stats.heads == 2
        assert not c.stream(sid).done


def sync(c):
    """A PING's round trip: what was sent before it has been read."""
    n = len(c.ping_acks)
    c.ping()
    c.wait(lambda: len(c.ping_acks) > n, timeout=30 * SLACK, what="PING ACK")


def test_streams_reset_while_delayed_give_their_window_back(gatehouse, origin, port):
    # 600 streams, each delayed by the limit with its window's worth of
    # DATA (16 KiB) in gatehouse, then reset by the client: that DATA was
    # never credited back (a parked stream is not woken by DATA) and used
    # to be lost to the connection's window with the stream (9.4 MiB of 16,
    # past what lets nghttp2 send a connection WINDOW_UPDATE): a 12 MiB
    # upload afterwards then stalled for good.
    gatehouse(simple_http_config(port, [origin.addr],
                                 frontend_extra="http_request limit d if path prefix /delayed\n"
                                                "h2_max_resets 100000")
              + "limit d {\n    key path\n    rate 1/m\n    burst 1000\n    delay 1\n}\n")
    assert request(port, "GET", "/delayed", [("Host", "test.local")], b"").status == 200
    with H2Client(port, timeout=60) as c:
        assert c.get("/warm").status == 200   # (our SETTINGS are in force)
        for _ in range(12):
            with c.batch():
                sids = [c.request("POST", "/delayed", HDRS + [("content-length", "100000")],
                                  end_stream=False) for _ in range(50)]
            sync(c)   # parked now
            with c.batch():
                for sid in sids:
                    assert c.stream(sid).send_window == 16384
                    c.send_data(sid, b"x" * 16384)
            sync(c)
            with c.batch():
                for sid in sids:
                    c.rst(sid)
            sync(c)
        body = b"y" * (12 * 1024 * 1024)
        sid = c.request("POST", "/after", HDRS + [("content-length", str(len(body)))],
                        end_stream=False)
        assert c.send_data(sid, body, end_stream=True, timeout=60 * SLACK)
        r = c.response(sid, timeout=60 * SLACK)
        assert r.status == 200, r
        assert r.json()["body_len"] == len(body)
    assert origin.stats.heads == 3   # the first /delayed, /warm, /after
