"""
h2origin.py - an HTTP/2 origin server for the end-to-end tests of
`server ... proto h2` (gatehouse speaking HTTP/2 to its servers).

H2Origin runs in-process, like origins.HttpOrigin: its own asyncio event
loop in a background thread, a listener on 127.0.0.1 (an ephemeral port),
.port and .addr.  It speaks HTTP/2 with prior knowledge (cleartext h2c), or
over TLS with ALPN h2 when given a certificate (tls=PEM or (cert, key)).
Each connection is an h2.connection.H2Connection (python3-h2, server side,
validating what it receives); each stream is an asyncio task.

Behaviour by path (the query string may add options):

  /echo (and any      200 with content-length, x-origin: NAME, and a JSON
  other path)         body: the request record (below) - pseudo-headers,
                      headers, body length and sha256, trailers
  /bytes/N            200, content-length N, N bytes of origins.PATTERN
  /stream/N           200 without content-length: N DATA frames of ?size=K
                      bytes (default 1000) of the pattern, ?interval_ms=M
                      apart (default 0); ?cc=V adds cache-control: V
  /trailers           200 without content-length, ?n=N bytes (default
                      1000) of the pattern, then a trailers HEADERS frame:
                      x-trailer: done, x-body-sha256: <hex of the body>
  /delay/MS           waits MS ms, then answers like /echo
  /status/C           status C with a short body (none for 204/304)
  /only-head          200 as one HEADERS frame with END_STREAM, no
                      content-length, fields grpc-status: 5 and
                      grpc-message: gone (gRPC's trailers-only form)
  /hang               reads the request, never answers (until the peer
                      goes, the stream is reset or the origin closes)
  /refuse             RST_STREAM REFUSED_STREAM as soon as the request
                      head arrives (the stream was not processed)
  /reset              reads the request, then RST_STREAM INTERNAL_ERROR
                      (?code=N another code); ?head=1 sends a 200 head
                      (no content-length) first, ?after=N also N body bytes
  /goaway             GOAWAY(NO_ERROR) whose last_stream_id is below this
                      stream (this stream id - 2, or ?last=N): this stream
                      and every later one on the connection are ignored
                      (not processed: the client must retry them), the
                      earlier ones finish, then the connection closes;
                      ?after_body=1: only once this request's body is in

  ?on=NAME            /refuse, /reset and /goaway act only on the origin
                      named NAME; any other answers like /echo (so two
                      origins behind one backend behave differently)
  ?conn=K             ... and only on this origin's K-th connection (1-based)

Settings: `max_streams` is advertised as SETTINGS_MAX_CONCURRENT_STREAMS
(default 100; None: not advertised, i.e. unlimited).  The origin enforces
it itself, per RFC 9113 5.1.2: a stream beyond it is refused with
RST_STREAM REFUSED_STREAM (never processed, so a client may retry it) and
recorded in ConnRecord.over_limit_before_ack / over_limit_after_ack - a
client may exceed the limit until it has seen the SETTINGS frame (it acks
it), never after.  `initial_window` and `conn_window` are the receive
windows it gives (received DATA is credited back at once).
`settings_delay` (seconds, default 0) holds the origin's first frames (its
SETTINGS) back on each new connection, as a busy or distant server's
arrive late; what the client sent meanwhile is read after them.

What it records, for assertions (plain attributes, read from the test's
thread):

  accepts, open_conns       TCP connections accepted / open now
  conns                     [ConnRecord] in accept order: .streams (heads
                            seen), .open / .max_open (streams open at once,
                            a refused one not counted), .max_open_after_ack,
                            .over_limit_*, .settings_acked, .alpn,
                            .goaway_sent (last id), .goaway_received,
                            .ignored (stream ids not processed after our
                            GOAWAY)
  heads                     request heads received (every stream)
  requests                  completed request records (dicts): origin,
                            conn, stream, method, scheme, authority, path,
                            pseudo, headers [[name, value]], body_len,
                            body_sha256, data_frames, trailers, t_start,
                            t_end (time.monotonic())
  refused                   [(conn, stream, path, why)] streams reset with
                            REFUSED_STREAM (/refuse or over the limit)
  resets_sent               [(conn, stream, code)] every RST_STREAM we sent
  resets_received           [(conn, stream, code)] every RST_STREAM received
  open_streams / max_open_total   streams open now / at once over all
                            connections
  delaying / max_delaying   /delay requests sleeping now / at most at once
  protocol_errors           what the client did wrong: a frame or header
                            block python3-h2 refuses (RFC 9113: pseudo-
                            headers, connection-specific fields, te other
                            than trailers, uppercase names, content-length
                            that disagrees with the DATA, ...), a request
                            without :authority or :scheme, hop-by-hop
                            fields, over the stream limit after the
                            SETTINGS ack, TLS without ALPN h2.  (A
                            request with host but no :authority is
                            accepted, as RFC 9113 8.3.1 allows a proxy to
                            keep Host; test_h2_server checks :authority.)  Also added
                            to origins.PROTOCOL_ERRORS, so conftest fails
                            the test unless it takes them
                            (origins.take_protocol_errors()).

Every wait is bounded: a connection idle for `idle_timeout` (default 60 s)
is closed, a stream waits at most `stream_timeout` (30 s) for its request
body or for flow-control credit, then is reset.  close() (the fixture's
teardown) stops everything within a few seconds.
"""

import asyncio
import hashlib
import json
import socket
import ssl
import threading
import time
import urllib.parse

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
from h2.connection import ConnectionState
from hyperframe.frame import GoAwayFrame

import origins
from origins import MiB, PATTERN_VIEW

REFUSED_STREAM = h2.errors.ErrorCodes.REFUSED_STREAM
INTERNAL_ERROR = h2.errors.ErrorCodes.INTERNAL_ERROR
CANCEL = h2.errors.ErrorCodes.CANCEL

# request fields a proxy must not forward over HTTP/2 (RFC 9113 8.2.2);
# python3-h2 refuses most itself, this is the origin's own check
_HOP_FIELDS = ("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
               "http2-settings")


_FRAME_NAMES = {0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS",
                5: "PUSH_PROMISE", 6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE", 9: "CONTINUATION"}


class _Settings(h2.settings.Settings):
    """The origin's SETTINGS as sent, but python3-h2's own check of
    MAX_CONCURRENT_STREAMS disabled: h2 would end the whole connection
    (PROTOCOL_ERROR); the origin refuses the one stream (REFUSED_STREAM,
    what nghttp2 does) and records it."""

    @property
    def max_concurrent_streams(self):
        return 1 << 31


class _StreamGone(Exception):
    """The stream was reset or the connection ended while we worked on it."""


class ConnRecord:
    def __init__(self, cid):
        self.id = cid
        self.t_accept = time.monotonic()
        self.alpn = None
        self.streams = 0              # request heads received
        self.open = 0                 # streams open now (processed ones)
        self.max_open = 0
        self.max_open_after_ack = 0
        self.settings_acked = False
        self.over_limit_before_ack = 0
        self.over_limit_after_ack = 0
        self.goaway_sent = None       # last_stream_id of our GOAWAY
        self.goaway_received = None   # (last_stream_id, error_code)
        self.ignored = []             # stream ids ignored after our GOAWAY
        self.closed = False
        self.remote_settings = {}

    def __repr__(self):
        return ("<conn %d streams=%d max_open=%d (after ack %d) over_limit=%d/%d goaway=%s "
                "ignored=%s>" % (self.id, self.streams, self.max_open, self.max_open_after_ack,
                                 self.over_limit_before_ack, self.over_limit_after_ack,
                                 self.goaway_sent, self.ignored))


class _StreamState:
    def __init__(self, sid, headers):
        self.id = sid
        self.headers = headers        # [(name, value)] str, as received
        self.pseudo = {k: v for k, v in headers if k.startswith(":")}
        self.regular = [(k, v) for k, v in headers if not k.startswith(":")]
        self.sha = hashlib.sha256()
        self.body_len = 0
        self.data_frames = 0
        self.trailers = []
        self.ended = asyncio.Event()  # the request is complete (END_STREAM)
        self.reset = None             # RST_STREAM code received
        self.local_closed = False     # we ended it (END_STREAM or RST_STREAM)
        self.remote_closed = False
        self.counted = False          # in ConnRecord.open
        self.t_start = time.monotonic()


class _Conn:
    """One HTTP/2 connection: the h2 state machine, its streams, output."""

    def __init__(self, origin, rec, reader, writer):
        self.o = origin
        self.rec = rec
        self.reader = reader
        self.writer = writer
        cfg = h2.config.H2Configuration(client_side=False, header_encoding=None,
                                        validate_inbound_headers=True,
                                        normalize_inbound_headers=False)
        self.h2 = h2.connection.H2Connection(cfg)
        init = {h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 65536,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: origin.initial_window}
        if origin.max_streams is not None:
            init[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] = origin.max_streams
        self.h2.local_settings = _Settings(client=False, initial_values=init)
        self.streams = {}
        self.tasks = set()
        self.window = asyncio.Event()     # set (and replaced) when a window opens
        self.goaway_last = None
        self.dead = False

    # ---- output ---------------------------------------------------------------
    def flush(self):
        data = self.h2.data_to_send()
        if data and not self.dead:
            self.writer.write(data)

    async def drain(self):
        self.flush()
        if self.dead:
            raise _StreamGone()
        try:
            await asyncio.wait_for(self.writer.drain(), self.o.stream_timeout)
        except (ConnectionError, asyncio.TimeoutError, OSError):
            self.dead = True
            raise _StreamGone()

    def _wake_windows(self):
        self.window.set()
        self.window = asyncio.Event()

    # ---- input ----------------------------------------------------------------
    async def run(self):
        if self.o.settings_delay:
            await asyncio.sleep(self.o.settings_delay)
        self.h2.initiate_connection()
        extra = self.o.conn_window - 65535
        if extra > 0:
            self.h2.increment_flow_control_window(extra)
        self.flush()
        try:
            while not self.dead:
                try:
                    data = await asyncio.wait_for(self.reader.read(256 * 1024),
                                                  self.o.idle_timeout)
                except asyncio.TimeoutError:
                    break
                if not data:
                    break
                if self.o.trace is not None:
                    self._trace_in(data)
                try:
                    events = self.h2.receive_data(data)
                except h2.exceptions.ProtocolError as e:
                    self.o._protocol_error(self.rec.id, None,
                                           "python3-h2 refused what the client sent: %r" % e)
                    self.flush()        # h2's GOAWAY
                    break
                for ev in events:
                    self._on_event(ev)
                self.flush()
        except (ConnectionError, OSError):
            pass
        finally:
            self.dead = True
            self.rec.closed = True
            for t in list(self.tasks):
                t.cancel()
            for st in self.streams.values():
                st.ended.set()
                self._uncount(st)
            self._wake_windows()
            try:
                self.writer.close()
            except Exception:
                pass

    def _trace_in(self, data):
        """Records (conn, type, flags, stream, length) of each frame received."""
        buf = self._tbuf = getattr(self, "_tbuf", bytearray()) + data
        pos = 24 if not getattr(self, "_tpre", False) else 0
        if pos and len(buf) < 24:
            return
        self._tpre = True
        while len(buf) - pos >= 9:
            n = int.from_bytes(buf[pos:pos + 3], "big")
            if len(buf) - pos < 9 + n:
                break
            self.o.trace.append((self.rec.id, _FRAME_NAMES.get(buf[pos + 3], buf[pos + 3]),
                                 buf[pos + 4], int.from_bytes(buf[pos + 5:pos + 9], "big") & 0x7FFFFFFF,
                                 n))
            pos += 9 + n
        del buf[:pos]

    def _on_event(self, ev):
        E = h2.events
        if isinstance(ev, E.RequestReceived):
            self._on_request(ev)
        elif isinstance(ev, E.DataReceived):
            st = self.streams.get(ev.stream_id)
            if st is not None:
                st.data_frames += 1
                st.body_len += len(ev.data)
                st.sha.update(ev.data)
            try:
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            except h2.exceptions.StreamClosedError:
                pass
            if ev.stream_ended is not None:
                self._remote_end(ev.stream_id)
        elif isinstance(ev, E.TrailersReceived):
            st = self.streams.get(ev.stream_id)
            if st is not None:
                st.trailers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in ev.headers]
            if ev.stream_ended is not None:
                self._remote_end(ev.stream_id)
        elif isinstance(ev, E.StreamEnded):
            self._remote_end(ev.stream_id)
        elif isinstance(ev, E.StreamReset):
            self.o.resets_received.append((self.rec.id, ev.stream_id, int(ev.error_code)))
            st = self.streams.get(ev.stream_id)
            if st is not None:
                st.reset = int(ev.error_code)
                st.remote_closed = st.local_closed = True
                st.ended.set()
                self._uncount(st)
            self._wake_windows()
        elif isinstance(ev, (E.WindowUpdated, E.RemoteSettingsChanged)):
            if isinstance(ev, E.RemoteSettingsChanged):
                for k, v in ev.changed_settings.items():
                    self.rec.remote_settings[int(k)] = v.new_value
            self._wake_windows()
        elif isinstance(ev, E.SettingsAcknowledged):
            self.rec.settings_acked = True
        elif isinstance(ev, E.ConnectionTerminated):
            self.rec.goaway_received = (ev.last_stream_id, int(ev.error_code))
            # A client's GOAWAY (e.g. a graceful stop) lets the streams in
            # flight finish (RFC 9113 6.8); python3-h2 would refuse to send
            # anything more, so its connection state goes back to open.
            if self.h2.state_machine.state == ConnectionState.CLOSED:
                self.h2.state_machine.state = ConnectionState.SERVER_OPEN

    def _remote_end(self, sid):
        st = self.streams.get(sid)
        if st is not None:
            st.remote_closed = True
            st.ended.set()
            self._maybe_done(st)

    def _maybe_done(self, st):
        if st.remote_closed and st.local_closed:
            self._uncount(st)

    def _uncount(self, st):
        if st.counted:
            st.counted = False
            self.rec.open -= 1
            self.o.open_streams -= 1

    def _on_request(self, ev):
        sid = ev.stream_id
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in ev.headers]
        st = _StreamState(sid, headers)
        self.streams[sid] = st
        self.rec.streams += 1
        self.o.heads += 1
        if ev.stream_ended is not None:
            st.remote_closed = True
            st.ended.set()
        if self.goaway_last is not None and sid > self.goaway_last:
            self.rec.ignored.append(sid)        # not processed: the client retries
            return
        limit = self.o.max_streams
        if limit is not None and self.rec.open + 1 > limit:
            if self.rec.settings_acked:
                self.rec.over_limit_after_ack += 1
                self.o._protocol_error(self.rec.id, sid,
                                       "stream %d opened with %d open: over "
                                       "SETTINGS_MAX_CONCURRENT_STREAMS %d after the client "
                                       "acked it" % (sid, self.rec.open, limit))
            else:
                self.rec.over_limit_before_ack += 1
            self._refuse(st, "over the limit")
            return
        st.counted = True
        self.rec.open += 1
        self.rec.max_open = max(self.rec.max_open, self.rec.open)
        if self.rec.settings_acked:
            self.rec.max_open_after_ack = max(self.rec.max_open_after_ack, self.rec.open)
        self.o.open_streams += 1
        self.o.max_open_total = max(self.o.max_open_total, self.o.open_streams)
        self._check_hygiene(st)
        t = asyncio.ensure_future(self._handle(st))
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    def _check_hygiene(self, st):
        p = st.pseudo
        what = "%s %s" % (p.get(":method"), p.get(":path"))
        if p.get(":method") != "CONNECT":
            if not p.get(":scheme"):
                self.o._protocol_error(self.rec.id, st.id, what + ": no :scheme")
            if not p.get(":authority") and not [v for k, v in st.regular if k == "host"]:
                self.o._protocol_error(self.rec.id, st.id, what + ": neither :authority nor "
                                       "host (RFC 9113 8.3.1)")
        names = [k for k, _ in st.regular]
        for n in _HOP_FIELDS:
            if n in names:
                self.o._protocol_error(self.rec.id, st.id, what + ": connection-specific "
                                       "field %s forwarded" % n)
        hosts = [v for k, v in st.regular if k == "host"]
        if len(hosts) > 1 or (hosts and p.get(":authority") and hosts[0] != p[":authority"]):
            self.o._protocol_error(self.rec.id, st.id, what + ": host %r disagrees with "
                                   ":authority %r" % (hosts, p.get(":authority")))

    def _refuse(self, st, why):
        self.o.refused.append((self.rec.id, st.id, st.pseudo.get(":path"), why))
        self.reset(st, REFUSED_STREAM)

    def reset(self, st, code):
        if st.local_closed and st.remote_closed:
            return
        try:
            self.h2.reset_stream(st.id, code)
        except h2.exceptions.ProtocolError:
            return
        self.o.resets_sent.append((self.rec.id, st.id, int(code)))
        st.local_closed = st.remote_closed = True
        st.ended.set()
        self._uncount(st)
        self.flush()

    def send_goaway(self, last):
        """A GOAWAY python3-h2 does not know about: its state machine would
        forbid finishing the streams below `last`, which RFC 9113 6.8
        allows (and we want)."""
        self.goaway_last = last
        self.rec.goaway_sent = last
        self.o.goaways_sent += 1
        self.flush()
        self.writer.write(GoAwayFrame(0, last_stream_id=last, error_code=0).serialize())
        t = asyncio.ensure_future(self._close_after_goaway())
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    async def _close_after_goaway(self):
        deadline = time.monotonic() + self.o.stream_timeout
        while time.monotonic() < deadline:
            busy = [s for s in self.streams.values()
                    if s.id <= self.goaway_last and not (s.local_closed and s.remote_closed)]
            if not busy:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        self.flush()
        self.dead = True
        try:
            self.writer.close()
        except Exception:
            pass

    # ---- sending a response ------------------------------------------------------
    def _check_alive(self, st):
        if self.dead or st.reset is not None:
            raise _StreamGone()

    async def send_head(self, st, status, headers=(), end_stream=False):
        self._check_alive(st)
        hs = [(":status", str(status))] + [(k, str(v)) for k, v in headers]
        try:
            self.h2.send_headers(st.id, hs, end_stream=end_stream)
        except h2.exceptions.ProtocolError:
            raise _StreamGone()
        if end_stream:
            self._local_end(st)
        await self.drain()

    async def send_body(self, st, data, end_stream=True):
        view = memoryview(data)
        pos = 0
        while pos < len(view):
            self._check_alive(st)
            try:
                n = min(self.h2.local_flow_control_window(st.id), self.h2.max_outbound_frame_size,
                        len(view) - pos)
            except h2.exceptions.ProtocolError:
                raise _StreamGone()
            if n <= 0:
                ev = self.window
                try:
                    await asyncio.wait_for(ev.wait(), self.o.stream_timeout)
                except asyncio.TimeoutError:
                    self.reset(st, CANCEL)
                    raise _StreamGone()
                continue
            last = pos + n == len(view)
            try:
                self.h2.send_data(st.id, bytes(view[pos:pos + n]), end_stream=end_stream and last)
            except h2.exceptions.ProtocolError:
                raise _StreamGone()
            pos += n
            await self.drain()
        if end_stream:
            if len(view) == 0:
                try:
                    self.h2.end_stream(st.id)
                except h2.exceptions.ProtocolError:
                    raise _StreamGone()
                await self.drain()
            self._local_end(st)

    async def send_trailers(self, st, trailers):
        self._check_alive(st)
        try:
            self.h2.send_headers(st.id, list(trailers), end_stream=True)
        except h2.exceptions.ProtocolError:
            raise _StreamGone()
        self._local_end(st)
        await self.drain()

    def _local_end(self, st):
        st.local_closed = True
        self._maybe_done(st)

    async def read_body(self, st):
        try:
            await asyncio.wait_for(st.ended.wait(), self.o.stream_timeout)
        except asyncio.TimeoutError:
            self.reset(st, CANCEL)
            raise _StreamGone()
        if st.reset is not None or self.dead:
            raise _StreamGone()

    # ---- behaviours -------------------------------------------------------------
    async def _handle(self, st):
        try:
            await self._behave(st)
        except (_StreamGone, asyncio.CancelledError, ConnectionError, OSError):
            pass
        except Exception as e:           # a bug in the origin must not pass for a reset
            self.o._protocol_error(self.rec.id, st.id, "origin failed: %r" % e)
            self.reset(st, INTERNAL_ERROR)
        finally:
            self.flush()

    def _record(self, st):
        p = st.pseudo
        rec = dict(origin=self.o.name, conn=self.rec.id, stream=st.id,
                   method=p.get(":method"), scheme=p.get(":scheme"),
                   authority=p.get(":authority"), path=p.get(":path"),
                   pseudo=dict(p), headers=[list(h) for h in st.regular],
                   body_len=st.body_len, body_sha256=st.sha.hexdigest(),
                   data_frames=st.data_frames, trailers=[list(h) for h in st.trailers],
                   t_start=st.t_start, t_end=time.monotonic())
        self.o.requests.append(rec)
        return rec

    async def _behave(self, st):
        target = st.pseudo.get(":path") or "/"
        u = urllib.parse.urlsplit(target)
        path = u.path
        q = dict(urllib.parse.parse_qsl(u.query))
        seg = path.split("/")
        special = ((q.get("on") in (None, self.o.name))
                   and (q.get("conn") is None or int(q["conn"]) == self.rec.id))

        if path == "/refuse" and special:
            self._refuse(st, "/refuse")
            return
        if path == "/goaway" and special:
            if q.get("after_body") == "1":
                await self.read_body(st)
            last = int(q["last"]) if "last" in q else max(0, st.id - 2)
            self.rec.ignored.append(st.id)
            st.local_closed = st.remote_closed = True     # never answered
            self._uncount(st)
            self.send_goaway(last)
            return

        await self.read_body(st)
        rec = self._record(st)
        head_only = st.pseudo.get(":method") == "HEAD"
        base = [("x-origin", self.o.name)]

        if path == "/reset" and special:
            if q.get("head") == "1":
                await self.send_head(st, 200, base + [("content-type",
                                                       "application/octet-stream")])
                n = int(q.get("after", "0"))
                if n:
                    await self.send_body(st, origins.expected_bytes(n), end_stream=False)
                await asyncio.sleep(0.05)
            self.reset(st, int(q.get("code", INTERNAL_ERROR)))
            return

        if path.startswith("/bytes/"):
            n = int(seg[2])
            await self.send_head(st, 200, base + [("content-type", "application/octet-stream"),
                                                  ("content-length", n)],
                                 end_stream=head_only or n == 0)
            if not head_only and n:
                await self._send_pattern(st, n, end_stream=True)
            return

        if path.startswith("/stream/"):
            n = int(seg[2])
            size = int(q.get("size", "1000"))
            interval = int(q.get("interval_ms", "0")) / 1000.0
            cc = [("cache-control", q["cc"])] if "cc" in q else []
            await self.send_head(st, 200, base + cc + [("content-type",
                                                        "application/octet-stream")],
                                 end_stream=head_only)
            if head_only:
                return
            pos = 0
            for i in range(n):
                await self.send_body(st, origins.expected_bytes(size, pos),
                                     end_stream=(i == n - 1))
                pos += size
                if interval and i < n - 1:
                    await asyncio.sleep(interval)
            if n == 0:
                await self.send_body(st, b"", end_stream=True)
            return

        if path == "/trailers":
            n = int(q.get("n", "1000"))
            body = origins.expected_bytes(n)
            await self.send_head(st, 200, base + [("content-type", "application/octet-stream")])
            if n:
                await self.send_body(st, body, end_stream=False)
            await self.send_trailers(st, [("x-trailer", "done"),
                                          ("x-body-sha256", hashlib.sha256(body).hexdigest())])
            return

        if path.startswith("/status/"):
            code = int(seg[2])
            if code in (204, 304):
                await self.send_head(st, code, base, end_stream=True)
                return
            body = b"status %d\n" % code
            await self.send_head(st, code, base + [("content-length", len(body))],
                                 end_stream=head_only)
            if not head_only:
                await self.send_body(st, body)
            return

        if path == "/only-head":
            await self.send_head(st, 200, base + [("content-type", "application/grpc"),
                                                  ("grpc-status", "5"),
                                                  ("grpc-message", "gone")], end_stream=True)
            return

        if path == "/hang":
            while not self.dead and st.reset is None:
                await asyncio.sleep(0.05)
            return

        if path.startswith("/delay/"):
            self.o.delaying += 1
            self.o.max_delaying = max(self.o.max_delaying, self.o.delaying)
            try:
                await asyncio.sleep(int(seg[2]) / 1000.0)
            finally:
                self.o.delaying -= 1

        body = json.dumps(rec).encode()
        await self.send_head(st, 200, base + [("content-type", "application/json"),
                                              ("content-length", len(body))],
                             end_stream=head_only)
        if not head_only:
            await self.send_body(st, body)

    async def _send_pattern(self, st, n, end_stream=True):
        pos = 0
        while pos < n:
            start = pos % MiB
            k = min(n - pos, MiB - start)
            await self.send_body(st, PATTERN_VIEW[start:start + k],
                                 end_stream=end_stream and pos + k == n)
            pos += k


class H2Origin:
    def __init__(self, name="h2o", max_streams=100, tls=None, alpn=("h2",),
                 initial_window=1 << 20, conn_window=16 << 20, idle_timeout=60.0,
                 stream_timeout=30.0, trace=False, settings_delay=0.0):
        self.name = name
        self.settings_delay = settings_delay
        self.trace = [] if trace else None     # frames received, for debugging
        self.max_streams = max_streams
        self.initial_window = initial_window
        self.conn_window = max(conn_window, 65535)
        self.idle_timeout = idle_timeout
        self.stream_timeout = stream_timeout
        self.tls = tls
        self.ssl_ctx = None
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            if isinstance(tls, (tuple, list)):
                ctx.load_cert_chain(*tls)      # (certfile, keyfile)
            else:
                ctx.load_cert_chain(tls)       # one PEM with both
            if alpn:
                ctx.set_alpn_protocols(list(alpn))
            self.ssl_ctx = ctx
        self.accepts = 0
        self.open_conns = 0
        self.conns = []
        self.heads = 0
        self.requests = []
        self.refused = []
        self.resets_sent = []
        self.resets_received = []
        self.goaways_sent = 0
        self.open_streams = 0
        self.max_open_total = 0
        self.delaying = 0
        self.max_delaying = 0
        self.tls_failures = 0
        self.protocol_errors = []
        self._live = set()

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="h2origin-" + name, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("h2 origin %s did not start" % name)

    # ---- lifecycle ----------------------------------------------------------------
    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.set_exception_handler(lambda loop, ctx: None)   # TLS noise at teardown
        self.server = self.loop.run_until_complete(asyncio.start_server(
            self._accept, sock=self.sock, ssl=self.ssl_ctx,
            ssl_handshake_timeout=10 if self.ssl_ctx else None))
        self._ready.set()
        self.loop.run_forever()
        self.loop.close()

    async def _shutdown(self):
        self.server.close()
        for c in list(self._live):
            c.dead = True
            try:
                c.writer.transport.abort()
            except Exception:
                pass
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.sleep(0)

    def close(self):
        if not self._thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _protocol_error(self, conn_id, sid, what):
        e = "h2 origin %s conn %s stream %s: %s" % (self.name, conn_id, sid, what)
        self.protocol_errors.append(e)
        with origins._PROTOCOL_ERRORS_LOCK:
            origins.PROTOCOL_ERRORS.append(e)

    # ---- serving ------------------------------------------------------------------
    async def _accept(self, reader, writer):
        self.accepts += 1
        self.open_conns += 1
        rec = ConnRecord(self.accepts)
        self.conns.append(rec)
        sock = writer.get_extra_info("socket")
        try:
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        sslobj = writer.get_extra_info("ssl_object")
        if sslobj is not None:
            rec.alpn = sslobj.selected_alpn_protocol()
            if rec.alpn != "h2":
                self._protocol_error(rec.id, None, "TLS connection without ALPN h2 (ALPN %r)"
                                     % rec.alpn)
        c = _Conn(self, rec, reader, writer)
        self._live.add(c)
        try:
            await c.run()
        except asyncio.CancelledError:
            pass
        finally:
            self._live.discard(c)
            self.open_conns -= 1

    # ---- helpers for the tests ------------------------------------------------------
    def wait_requests(self, n, timeout=10.0):
        """Waits until n requests completed at this origin; returns them."""
        from ghutil import SLACK, wait_for
        wait_for(lambda: len(self.requests) >= n, timeout * SLACK,
                 what="%d requests at h2 origin %s (%d so far)" % (n, self.name,
                                                                   len(self.requests)))
        return self.requests

    def receiving(self):
        """{(conn, stream): body bytes so far} of the requests whose body is
        still arriving (a snapshot, taken on the origin's loop)."""
        async def snap():
            return {(c.rec.id, st.id): st.body_len for c in list(self._live)
                    for st in c.streams.values() if not st.remote_closed}
        return asyncio.run_coroutine_threadsafe(snap(), self.loop).result(5)

    def targets(self):
        return [r["path"] for r in self.requests]

    @property
    def max_open_per_conn(self):
        return max([c.max_open for c in self.conns] or [0])

    def summary(self):
        return ("h2 origin %s: accepts=%d heads=%d requests=%d refused=%d resets_sent=%d "
                "resets_received=%d goaways=%d max_open_total=%d conns=%r"
                % (self.name, self.accepts, self.heads, len(self.requests), len(self.refused),
                   len(self.resets_sent), len(self.resets_received), self.goaways_sent,
                   self.max_open_total, self.conns[:12]))
