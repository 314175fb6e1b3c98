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
