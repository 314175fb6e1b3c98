"""An eager HTTP/2 client (one that sends its first 64 KiB of DATA under
the default window before it reads our SETTINGS) always gets the window
it needs to send the rest of its body.

Our SETTINGS say INITIAL_WINDOW_SIZE tune.bufsize/2 (16 KiB by default).
The client that acknowledges them after sending 64 KiB has a negative
stream window (16 KiB - what it sent + what we credited) and can send
again only after our WINDOW_UPDATEs.  Gatehouse credits a stream as its
buffer leaves room (h2_client.c, h2s_credit); it used to decide that
credit with nghttp2's window as it was before the ACK (the old 64 KiB:
"the client still has 40 KiB, no credit") and with a negative window read
as 0, and nothing ran the credit again once the ACK came.  The client then
waited for good, a few KiB short: with the WAF holding the body up to
body_limit (64k, body_over_limit pass), it could never send the byte past
the limit (CI: 1 in 15 runs of test_waf_h2_judge.py's first test).

Whether the credit was decided before the ACK depends on where the
client's bytes stood when gatehouse read them, so each test drives that
itself: the first 64 KiB go in chunks, each followed by a PING round trip
(gatehouse has read and handled everything before it), and only then does
the client read our SETTINGS (and ACK them).  The chunk boundaries are a
fixed pseudo-random list (seeded), 30 patterns per case, the same every
run.  A stall shows as the client waiting for window: the deadline only
bounds a failure.

Cases, and how many of their 30 patterns stalled on the old build (two
runs each): the WAF holding the body with 16 KiB frames (11, 11), with
1000-byte frames and the client's own INITIAL_WINDOW_SIZE 65535 (16, 16),
with a body_limit that is no multiple of the frame size (3, 5), with
tune.bufsize 16k, i.e. our window 8 KiB (30, 30), and 64k, our window
32 KiB (0, 0: the buffer then takes what the old window left, kept as a
guard); no filter at all (17, 17); a stream parked on a limit's delay
first (13, 13).
"""

import hashlib
import random

import pytest
from hyperframe.frame import SettingsFrame

import ghutil
from ghutil import SLACK, simple_http_config
from h2util import H2Client, H2Error

pytestmark = pytest.mark.skipif(ghutil.IMPL == "haproxy",
                                reason="waf and limit sections are gatehouse's")

HDRS = [("user-agent", "e2e-h2"), ("accept", "*/*"),
        ("content-type", "application/octet-stream")]

ATTEMPTS = 30
EAGER = 65535                       # the default window: what may go before SETTINGS
STALL = 10 * SLACK                  # bounds a failure only

RULES = 'SecRule REQUEST_FILENAME "@beginsWith /never" "id:1000,phase:2,deny,status:403,log"\n'


class EagerClient(H2Client):
    """A client that has not read our SETTINGS yet: the SETTINGS frames
    that arrive are kept unread (not applied to its windows, not
    acknowledged) until read_settings()."""

    def __init__(self, port, **kw):
        self.unread = []
        self.settings_read = False
        super().__init__(port, **kw)

    def _on_frame(self, f):
        if (not self.settings_read and isinstance(f, SettingsFrame)
                and "ACK" not in f.flags):
            self.unread.append(f)
            return
        super()._on_frame(f)

    def read_settings(self):
        self.settings_read = True
        for f in self.unread:
            super()._on_frame(f)    # applies them, queues the ACK
        self.unread = []
        self.flush()


def sync(c):
    """A PING's round trip: gatehouse read and handled what went before."""
    n = len(c.ping_acks)
    c.ping()
    c.wait(lambda: len(c.ping_acks) > n, timeout=30 * SLACK, what="PING ACK")


def patterns(seed, n=ATTEMPTS):
    """Where the first 64 KiB are cut (each cut followed by a sync): 0 to
    4 cuts anywhere, a fixed list per seed."""
    rnd = random.Random(seed)
    return [sorted(set(rnd.randrange(1, EAGER) for _ in range(rnd.randint(0, 4))))
            for _ in range(n)]


def body_of(n):
    return bytes(b"0123456789abcdef"[i % 16] for i in range(4096)) * (n // 4096) + b"z" * (n % 4096)


def eager_post(port, path, body, cuts, frame, client_window=1 << 20, before=None,
               after_first=None):
    """One connection: the first 64 KiB of body in chunks cut at `cuts`
    (frames of at most `frame` bytes), a sync after each, then our SETTINGS
    read; then the rest as the windows allow, and the answer.  before(c)
    runs first on the connection, after_first(c) after the first chunk."""
    with EagerClient(port, timeout=60, stream_window=client_window) as c:
        if before:
            before(c)
        sid = c.request("POST", path, HDRS + [("content-length", str(len(body)))],
                        end_stream=False)
        st = c.stream(sid)
        assert st.send_window == EAGER and c.settings_frames == 0
        pos = 0
        for end in cuts + [min(EAGER, len(body))]:
            assert c.send_data(sid, body[pos:end], max_frame=frame)
            sync(c)
            if after_first and not pos:
                after_first(c)
            pos = end
        assert not c.settings_read and c.unread, "gatehouse sent no SETTINGS"
        c.read_settings()
        try:
            sent = c.send_data(sid, body[pos:], end_stream=True, max_frame=frame, timeout=STALL)
        except H2Error as e:
            raise AssertionError("stalled after the first %d bytes cut at %r, frames of %d: "
                                 "stream window %d; %s" % (pos, cuts, frame, st.send_window, e)) \
                from None
        assert sent, c.summary()
        r = c.response(sid, timeout=30 * SLACK)
        assert r.status == 200, r
        j = r.json()
        assert j["body_len"] == len(body)
        assert j["body_sha256"] == hashlib.sha256(body).hexdigest()


def waf_config(tmp_path, port, origin, body_limit, global_extra=""):
    rules = tmp_path / "rules.conf"
    rules.write_text(RULES)
    return (simple_http_config(port, [origin.addr], frontend_extra="use_waf w",
                               global_extra="waf_threads 2\n" + global_extra)
            + "waf w {\n    rules %s\n    prefilter off\n    defaults off\n"
              "    body_limit %s\n    body_over_limit pass\n}\n" % (rules, body_limit))


@pytest.mark.parametrize("frame, client_window, body_limit, bufsize, seed", [
    (16384, 1 << 20, "64k", None, 1),
    (1000, 65535, "64k", None, 2),          # many small frames, the client's own window
    (16384, 1 << 20, "40001", None, 11),     # a limit that is no multiple of a frame
    (4096, 1 << 20, "64k", "16k", 4),       # our window 8 KiB
    (16384, 1 << 20, "64k", "64k", 5),      # our window 32 KiB
], ids=["frames16k", "frames1000", "limit40001", "bufsize16k", "bufsize64k"])
def test_eager_body_held_by_the_waf_gets_its_window(gatehouse, origin, port, tmp_path, frame,
                                                    client_window, body_limit, bufsize, seed):
    # body_over_limit pass: the WAF holds the first body_limit bytes and
    # judges them at the byte past the limit, which the client must be
    # able to send
    gatehouse(waf_config(tmp_path, port, origin, body_limit,
                         "tune.bufsize %s" % bufsize if bufsize else ""))
    body = body_of(96 * 1024 + 123)
    for i, cuts in enumerate(patterns(seed)):
        eager_post(port, "/held/%d" % i, body, cuts, frame, client_window)
    assert origin.stats.heads == ATTEMPTS


def test_eager_body_with_no_filter_gets_its_window(gatehouse, origin, port):
    # Nothing holds the body: it goes to the origin as it comes.  The
    # credit decided before the ACK stalled this too.
    gatehouse(simple_http_config(port, [origin.addr]))
    body = body_of(96 * 1024 + 123)
    for i, cuts in enumerate(patterns(6)):
        eager_post(port, "/plain/%d" % i, body, cuts, 16384)
    assert origin.stats.heads == ATTEMPTS


def test_eager_body_delayed_by_a_limit_gets_its_window(gatehouse, origin, port):
    # The stream is parked on the limit's delay first, its first chunk of
    # DATA in the buffer meanwhile; the client sends the rest of its 64 KiB
    # once the delay is over (the request reached the origin).  Each
    # attempt has its own key: its first request passes, the eager POST
    # waits 1/rate.
    gatehouse(simple_http_config(port, [origin.addr],
                                 frontend_extra="http_request limit d if path prefix /d/")
              + "limit d {\n    key path\n    rate 10/s\n    burst 2\n    delay 1\n}\n")
    body = body_of(96 * 1024 + 123)

    for i, cuts in enumerate(patterns(7)):
        path = "/d/%d" % i

        def prime(c, path=path):
            r = c.get(path, timeout=30 * SLACK)
            assert r.status == 200, r

        def delay_over(c, heads=2 * i + 2):
            c.wait(lambda: origin.stats.heads == heads, timeout=30 * SLACK,
                   what="the delayed request at the origin")

        eager_post(port, path, body, cuts, 16384, before=prime, after_first=delay_over)
    assert origin.stats.heads == 2 * ATTEMPTS
