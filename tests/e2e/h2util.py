"""
h2util.py - a small raw HTTP/2 client (RFC 9113) for the end-to-end tests.

It is built on the framing and HPACK layers of python3-h2 (hyperframe and
hpack) rather than on h2's H2Connection state machine: the tests send what
a conforming client never would (uppercase names, CR/LF/NUL in values,
pseudo-headers after regular ones, RST_STREAM and CONTINUATION floods) and
must survive whatever the proxy answers, so the client keeps its own small
per-stream state and never refuses to send or to receive a frame.

    with H2Client(port) as c:                  # TCP (or tls=True, ALPN "h2")
        r = c.get("/echo")                     # one stream, waits for the end
        assert r.status == 200 and r.json()["target"] == "/echo"
        a = c.request("POST", "/echo", body=b"x" * 100000)   # stream ids
        b = c.request("GET", "/bytes/5000")
        ra, rb = c.response(a), c.response(b)

What the client does by itself: the preface and a SETTINGS frame
(ENABLE_PUSH 0, INITIAL_WINDOW_SIZE `stream_window`, extra `settings`), a
connection WINDOW_UPDATE up to `conn_window`, ACKs of the peer's SETTINGS
and PINGs, WINDOW_UPDATEs when half of a receive window is used (as
nghttp2 does: few control frames, so a proxy's control-frame flood limit
is not tripped by ordinary downloads), except for streams marked stalled
(their window stays closed, the connection's keeps moving), and flow
control on what it sends (DATA waits for the peer's windows, reading
meanwhile).

Everything is bounded: every wait has a timeout (default 10 s, scaled by
ghutil.SLACK) and raises H2Error (an AssertionError) saying what it waited
for and the connection's state.  Writes interleave with reads (select), so
a peer that writes while we write cannot deadlock the client.

Raw frames: send_frame(hyperframe frame), send_raw(bytes), raw_frame(type,
flags, stream, payload); header blocks are encoded with the connection's
own HPACK encoder (so the peer's decoder stays in step) unless a test
passes an already encoded block.
"""

import contextlib
import hashlib
import json
import select
import socket
import ssl
import time

from hpack import Decoder, Encoder
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame,
                              PingFrame, PriorityFrame, PushPromiseFrame, RstStreamFrame,
                              SettingsFrame, WindowUpdateFrame)

try:
    from ghutil import SLACK
except ImportError:            # used alone
    SLACK = 1.0

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DEFAULT_TIMEOUT = 10.0

# Error codes (RFC 9113 7)
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
SETTINGS_TIMEOUT = 0x4
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
CONNECT_ERROR = 0xa
ENHANCE_YOUR_CALM = 0xb
INADEQUATE_SECURITY = 0xc
HTTP_1_1_REQUIRED = 0xd
ERROR_NAMES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR",
               3: "FLOW_CONTROL_ERROR", 4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED",
               6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL",
               9: "COMPRESSION_ERROR", 10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM",
               12: "INADEQUATE_SECURITY", 13: "HTTP_1_1_REQUIRED"}

# SETTINGS identifiers (RFC 9113 6.5.2)
HEADER_TABLE_SIZE = 0x1
ENABLE_PUSH = 0x2
MAX_CONCURRENT_STREAMS = 0x3
INITIAL_WINDOW_SIZE = 0x4
MAX_FRAME_SIZE = 0x5
MAX_HEADER_LIST_SIZE = 0x6

# Frame types
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, \
    WINDOW_UPDATE, CONTINUATION = range(10)
FLAG_END_STREAM = 0x1
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
FLAG_PADDED = 0x8
FLAG_PRIORITY = 0x20

# Response fields an HTTP/2 message must not carry (RFC 9113 8.2.2).
CONNECTION_SPECIFIC = ("connection", "keep-alive", "proxy-connection", "transfer-encoding",
                       "upgrade")


class H2Error(AssertionError):
    """A wait that timed out or a connection that ended too early."""


def err_name(code):
    return ERROR_NAMES.get(code, "0x%x" % code) if code is not None else None


def raw_frame(ftype, flags, stream_id, payload=b""):
    """One frame as bytes, whatever its content (for frames hyperframe
    would refuse to build)."""
    return (len(payload).to_bytes(3, "big") + bytes([ftype, flags])
            + (stream_id & 0x7FFFFFFF).to_bytes(4, "big") + payload)


def hpack_int(value, prefix_bits, first_byte=0):
    """An HPACK integer (RFC 7541 5.1) with the given prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = bytearray([first_byte | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value, index=True):
    """A literal field with a new (literal, not Huffman) name, added to the
    dynamic table when index (RFC 7541 6.2.1), else not indexed (6.2.2)."""
    name, value = _b(name), _b(value)
    return (bytes([0x40 if index else 0x00]) + hpack_int(len(name), 7) + name
            + hpack_int(len(value), 7) + value)


def hpack_indexed(index):
    """An indexed field (RFC 7541 6.1); 62 is the newest dynamic entry."""
    return hpack_int(index, 7, 0x80)


def _b(x):
    return x if isinstance(x, bytes) else str(x).encode("latin-1")


def _pairs(headers):
    return [(_b(k), _b(v)) for k, v in headers]


class Stream:
    """What the client saw of one stream."""

    def __init__(self, sid, send_window, keep_body=True):
        self.id = sid
        self.status = None          # final :status
        self.pseudo = {}            # the final head's pseudo-headers
        self.headers = []           # the final head's fields, [(name, value)] latin-1 str
        self.informational = []     # [(status, fields)] of 1xx heads
        self.trailers = None        # fields of a trailers HEADERS frame
        self.heads = 0              # header blocks received
        self.keep_body = keep_body
        self.data = bytearray()
        self.data_len = 0
        self.data_frames = 0
        self.sha = hashlib.sha256()
        self.ended = False          # END_STREAM received
        self.reset = None           # RST_STREAM error code received
        self.send_window = send_window
        self.recv_unacked = 0
        self.stalled = False        # keep our receive window closed
        self.local_closed = False   # we sent END_STREAM or RST_STREAM
        self.t_end = None           # time.monotonic() when it ended

    @property
    def done(self):
        return self.ended or self.reset is not None

    @property
    def body(self):
        return bytes(self.data)

    def headers_named(self, name):
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def header(self, name):
        vals = self.headers_named(name)
        return vals[-1] if vals else None

    def has(self, name):
        return bool(self.headers_named(name))

    def json(self):
        return json.loads(bytes(self.data))

    def __repr__(self):
        return "<Stream %d status=%s ended=%s reset=%s body=%d%s>" % (
            self.id, self.status, self.ended, err_name(self.reset), self.data_len,
            " trailers=%r" % self.trailers if self.trailers is not None else "")


class H2Client:
    def __init__(self, port, tls=False, alpn=("h2",), server_hostname=None, cafile=None,
                 timeout=DEFAULT_TIMEOUT, settings=None, preface=True, conn_window=16 << 20,
                 stream_window=1 << 20, host="127.0.0.1", keep_body=True, auto_ping_ack=True):
        self.timeout = timeout * SLACK
        self.keep_body = keep_body
        self.auto_ping_ack = auto_ping_ack
        raw = socket.create_connection((host, port), timeout=self.timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.alpn = None
        self.tls = bool(tls)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            if cafile:
                ctx.load_verify_locations(cafile)
            else:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if alpn:
                ctx.set_alpn_protocols(list(alpn))
            try:
                raw = ctx.wrap_socket(raw, server_hostname=server_hostname)
            except Exception:
                raw.close()
                raise
            self.alpn = raw.selected_alpn_protocol()
        self.sock = raw
        self.sock.setblocking(False)

        self.encoder = Encoder()
        self.decoder = Decoder()
        self.decoder.max_header_list_size = 16 << 20
        self.out = bytearray()
        self.inbuf = bytearray()
        self.corked = 0
        self.closed = False           # EOF or reset from the peer (or a failed write)
        self.reset_by_peer = False
        self.t_closed = None
        self.next_id = 1
        self.streams = {}
        self.frames = []              # (type, stream, flags) of every frame received (capped)
        self.frame_counts = {}        # type -> count
        self.goaways = []             # (last_stream_id, error_code, debug data)
        self.t_goaway = None
        self.peer_settings = {}       # everything the peer's SETTINGS frames said
        self.settings_frames = 0      # non-ACK SETTINGS received
        self.settings_acks = 0
        self.ping_acks = []
        self.pings_received = 0
        self.anomalies = []           # what the peer did wrong (the tests may assert on it)
        self._block = None            # header block being received: [sid, bytearray, end_stream]
        self.bytes_in = 0
        self.bytes_out = 0

        self.peer_initial_window = 65535
        self.peer_max_frame = 16384
        self.conn_send_window = 65535
        self.local_settings = {ENABLE_PUSH: 0, INITIAL_WINDOW_SIZE: stream_window}
        if settings:
            self.local_settings.update(settings)
        self.stream_window = self.local_settings.get(INITIAL_WINDOW_SIZE, 65535)
        self.conn_window = max(conn_window, 65535)
        self.conn_unacked = 0
        if HEADER_TABLE_SIZE in self.local_settings:
            self.decoder.max_allowed_table_size = self.local_settings[HEADER_TABLE_SIZE]
        if preface:
            self.send_preface()

    # ---- lifecycle ----------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    @property
    def goaway(self):
        """(last_stream_id, error_code, debug) of the last GOAWAY, or None."""
        return self.goaways[-1] if self.goaways else None

    def summary(self):
        live = [s for s in self.streams.values() if not s.done]
        return ("closed=%s goaway=%s streams=%d (%d not done: %s) frames=%r anomalies=%r"
                % (self.closed, [(l, err_name(c), d[:60]) for l, c, d in self.goaways],
                   len(self.streams), len(live), live[:5], self.frame_counts, self.anomalies[:5]))

    # ---- sending ------------------------------------------------------------------------
    @contextlib.contextmanager
    def batch(self):
        """Queue everything sent inside and write it at the end in as few
        segments as possible (e.g. HEADERS and RST_STREAM together)."""
        self.corked += 1
        try:
            yield self
        finally:
            self.corked -= 1
            if not self.corked:
                self.flush()

    def send_raw(self, data):
        self.out += data
        if not self.corked:
            self.flush()

    def send_frame(self, frame):
        self.send_raw(frame.serialize())

    def send_preface(self, settings=None):
        s = SettingsFrame(0, dict(settings if settings is not None else self.local_settings))
        data = PREFACE + s.serialize()
        if self.conn_window > 65535:
            data += WindowUpdateFrame(0, self.conn_window - 65535).serialize()
        self.send_raw(data)

    def new_stream_id(self):
        sid = self.next_id
        self.next_id += 2
        return sid

    def stream(self, sid):
        s = self.streams.get(sid)
        if s is None:
            s = self.streams[sid] = Stream(sid, self.peer_initial_window, self.keep_body)
        return s

    def encode(self, headers):
        return self.encoder.encode(_pairs(headers), huffman=True)

    def send_headers(self, sid, headers=None, end_stream=False, end_headers=True, block=None,
                     max_frame=None, priority=None):
        """A header block on sid: HEADERS, then CONTINUATION frames when it
        is bigger than max_frame (default the peer's SETTINGS_MAX_FRAME_SIZE).
        headers: [(name, value)] encoded with our HPACK encoder as given (no
        validation, no lowercasing), or block: an encoded block."""
        s = self.stream(sid)
        if block is None:
            block = self.encode(headers)
        step = max_frame or self.peer_max_frame
        chunks = [block[i:i + step] for i in range(0, len(block), step)] or [b""]
        data = bytearray()
        for i, c in enumerate(chunks):
            last = i == len(chunks) - 1
            flags = (FLAG_END_HEADERS if last and end_headers else 0)
            if i == 0:
                flags |= FLAG_END_STREAM if end_stream else 0
                payload = c
                if priority is not None:
                    dep, weight, excl = priority
                    flags |= FLAG_PRIORITY
                    payload = (((dep & 0x7FFFFFFF) | (0x80000000 if excl else 0)).to_bytes(4, "big")
                               + bytes([weight - 1]) + c)
                data += raw_frame(HEADERS, flags, sid, payload)
            else:
                data += raw_frame(CONTINUATION, flags, sid, c)
        if end_stream:
            s.local_closed = True
        self.send_raw(bytes(data))
        return sid

    def send_continuation(self, sid, fragment=b"", end_headers=False):
        self.send_raw(raw_frame(CONTINUATION, FLAG_END_HEADERS if end_headers else 0, sid,
                                fragment))

    def request_headers(self, method="GET", path="/", headers=(), authority="test.local",
                        scheme="http"):
        pseudo = [(":method", method), (":scheme", scheme)]
        if authority is not None:
            pseudo.append((":authority", authority))
        pseudo.append((":path", path))
        return pseudo + list(headers)

    def request(self, method="GET", path="/", headers=(), body=None, trailers=None,
                authority="test.local", scheme="http", end_stream=True, fields=None,
                keep_body=None, stalled=False):
        """Opens a stream; returns its id.  fields: the whole header list as
        sent (pseudo-headers included), instead of building it.  The body is
        sent with flow control (may wait for WINDOW_UPDATEs); end_stream
        False leaves the stream open for send_data()/send_trailers()."""
        sid = self.new_stream_id()
        s = self.stream(sid)
        if keep_body is not None:
            s.keep_body = keep_body
        s.stalled = stalled
        hdrs = fields if fields is not None else self.request_headers(method, path, headers,
                                                                      authority, scheme)
        no_more = end_stream and body is None and trailers is None
        self.send_headers(sid, hdrs, end_stream=no_more)
        if body is not None:
            self.send_data(sid, body, end_stream=end_stream and trailers is None)
        if trailers is not None:
            self.send_headers(sid, trailers, end_stream=True)
        return sid

    def send_data(self, sid, data, end_stream=False, timeout=None, flow_control=True,
                  max_frame=None):
        """DATA frames for data (bytes or a memoryview), within the peer's
        windows unless flow_control is False.  Waits (reading) for windows;
        returns False if the connection or the stream ended first."""
        s = self.stream(sid)
        view = memoryview(data)
        step = max_frame or self.peer_max_frame
        deadline = time.monotonic() + (timeout or self.timeout)
        if len(view) == 0:
            self.send_raw(raw_frame(DATA, FLAG_END_STREAM if end_stream else 0, sid))
            s.local_closed = s.local_closed or end_stream
            return True
        pos = 0
        while pos < len(view):
            if self.closed or s.reset is not None:
                return False
            n = min(step, len(view) - pos)
            if flow_control:
                n = min(n, self.conn_send_window, s.send_window)
            if n <= 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise H2Error("timed out after %.1fs waiting for a flow-control window "
                                  "for stream %d (%d of %d bytes sent; %s)"
                                  % (timeout or self.timeout, sid, pos, len(view), self.summary()))
                self._pump(min(left, 0.5))
                continue
            last = pos + n == len(view)
            self.out += raw_frame(DATA, FLAG_END_STREAM if (last and end_stream) else 0, sid,
                                  view[pos:pos + n])
            self.conn_send_window -= n
            s.send_window -= n
            pos += n
            if len(self.out) >= 256 * 1024 or last:
                if not self.corked:
                    self.flush()
        if end_stream:
            s.local_closed = True
        return True

    def send_trailers(self, sid, headers):
        return self.send_headers(sid, headers, end_stream=True)

    def rst(self, sid, code=CANCEL):
        self.stream(sid).local_closed = True
        self.send_raw(raw_frame(RST_STREAM, 0, sid, code.to_bytes(4, "big")))

    def ping(self, payload=b"h2util!!", ack=False):
        self.send_frame(PingFrame(0, opaque_data=payload, flags=["ACK"] if ack else []))

    def send_settings(self, settings):
        self.send_frame(SettingsFrame(0, dict(settings)))

    def window_update(self, sid, increment):
        self.send_raw(raw_frame(WINDOW_UPDATE, 0, sid, increment.to_bytes(4, "big")))

    def priority(self, sid, depends_on=0, weight=16, exclusive=False):
        self.send_frame(PriorityFrame(sid, depends_on=depends_on, stream_weight=weight - 1,
                                      exclusive=exclusive))

    def send_goaway(self, code=NO_ERROR, last_stream_id=0):
        self.send_frame(GoAwayFrame(0, last_stream_id=last_stream_id, error_code=code))

    def stall(self, sid):
        """Stops opening sid's receive window (the connection's still moves)."""
        self.stream(sid).stalled = True

    def unstall(self, sid):
        s = self.stream(sid)
        s.stalled = False
        if s.recv_unacked and not s.done:
            self.window_update(sid, s.recv_unacked)
            s.recv_unacked = 0

    def flush(self, timeout=None):
        """Writes what is queued, reading meanwhile.  Returns False when the
        connection ended first (what was queued is dropped)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while self.out:
            if self.closed:
                self.out.clear()
                return False
            self._write_some()
            if not self.out:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise H2Error("could not write %d bytes within %.1fs (peer not reading; %s)"
                              % (len(self.out), timeout or self.timeout, self.summary()))
            self._pump(min(left, 0.5))
        return not self.closed

    # ---- receiving ----------------------------------------------------------------------
    def _pump(self, timeout):
        """Waits up to timeout for the socket; reads and processes what
        arrived, writes what is queued."""
        if self.closed:
            return
        if self.tls and self.sock.pending():
            self._read_some()
            return
        w = [self.sock] if self.out else []
        try:
            r, w, _ = select.select([self.sock], w, [], max(0.0, timeout))
        except (OSError, ValueError):
            self._mark_closed(True)
            return
        if r:
            self._read_some()
        if w and not self.closed:
            self._write_some()

    def _mark_closed(self, reset=False):
        if not self.closed:
            self.closed = True
            self.reset_by_peer = reset
            self.t_closed = time.monotonic()

    def _write_some(self):
        while self.out and not self.closed:
            try:
                n = self.sock.send(self.out[:1 << 20])
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                return
            except OSError:
                self._mark_closed(True)
                self.out.clear()
                return
            self.bytes_out += n
            del self.out[:n]

    def _read_some(self):
        got = False
        while not self.closed:
            try:
                data = self.sock.recv(1 << 18)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            except (ConnectionError, ssl.SSLError, OSError):
                self._mark_closed(True)
                break
            if not data:
                self._mark_closed(False)
                break
            got = True
            self.bytes_in += len(data)
            self._feed(data)
            if not (self.tls and self.sock.pending()) and len(data) < (1 << 18):
                break
        if got and self.out and not self.corked:
            self._write_some()

    def _feed(self, data):
        buf = self.inbuf
        buf += data
        pos = 0
        n = len(buf)
        while n - pos >= 9:
            length = int.from_bytes(buf[pos:pos + 3], "big")
            if n - pos < 9 + length:
                break
            frame, _ = Frame.parse_frame_header(bytes(buf[pos:pos + 9]))
            frame.parse_body(memoryview(bytes(buf[pos + 9:pos + 9 + length])))
            pos += 9 + length
            self._on_frame(frame)
        if pos:
            del buf[:pos]

    def _on_frame(self, f):
        ftype = f.type
        flags = set(f.flags)
        if len(self.frames) < 200000:
            self.frames.append((ftype, f.stream_id, frozenset(flags)))
        self.frame_counts[type(f).__name__] = self.frame_counts.get(type(f).__name__, 0) + 1
        if self._block is not None and not (isinstance(f, ContinuationFrame)
                                            and f.stream_id == self._block[0]):
            self.anomalies.append("frame %s inside a header block on stream %d"
                                  % (type(f).__name__, self._block[0]))
        if isinstance(f, DataFrame):
            self._on_data(f, flags)
        elif isinstance(f, HeadersFrame):
            self._block = [f.stream_id, bytearray(f.data), "END_STREAM" in flags]
            if "END_HEADERS" in flags:
                self._end_block()
        elif isinstance(f, ContinuationFrame):
            if self._block is None or self._block[0] != f.stream_id:
                self.anomalies.append("CONTINUATION without a header block on stream %d"
                                      % f.stream_id)
                return
            self._block[1] += f.data
            if "END_HEADERS" in flags:
                self._end_block()
        elif isinstance(f, RstStreamFrame):
            s = self.stream(f.stream_id)
            if s.reset is None:
                s.reset = f.error_code
                s.t_end = s.t_end or time.monotonic()
        elif isinstance(f, SettingsFrame):
            if "ACK" in flags:
                self.settings_acks += 1
                return
            self.settings_frames += 1
            for k, v in f.settings.items():
                self.peer_settings[k] = v
                if k == INITIAL_WINDOW_SIZE:
                    delta = v - self.peer_initial_window
                    self.peer_initial_window = v
                    for s in self.streams.values():
                        s.send_window += delta
                elif k == MAX_FRAME_SIZE:
                    self.peer_max_frame = v
                elif k == HEADER_TABLE_SIZE:
                    self.encoder.header_table_size = min(v, 4096)
            self.out += SettingsFrame(0, flags=["ACK"]).serialize()
        elif isinstance(f, PingFrame):
            if "ACK" in flags:
                self.ping_acks.append(bytes(f.opaque_data))
            else:
                self.pings_received += 1
                if self.auto_ping_ack:
                    self.out += PingFrame(0, opaque_data=f.opaque_data, flags=["ACK"]).serialize()
        elif isinstance(f, GoAwayFrame):
            self.goaways.append((f.last_stream_id, f.error_code, bytes(f.additional_data)))
            self.t_goaway = self.t_goaway or time.monotonic()
        elif isinstance(f, WindowUpdateFrame):
            if f.stream_id == 0:
                self.conn_send_window += f.window_increment
            else:
                self.stream(f.stream_id).send_window += f.window_increment
        elif isinstance(f, PushPromiseFrame):
            self.anomalies.append("PUSH_PROMISE on stream %d though ENABLE_PUSH is 0"
                                  % f.stream_id)

    def _on_data(self, f, flags):
        n = f.flow_controlled_length
        s = self.stream(f.stream_id)
        if s.status is None:
            self.anomalies.append("DATA before a final head on stream %d" % f.stream_id)
        s.data_frames += 1
        s.data_len += len(f.data)
        if s.keep_body:
            s.data += f.data
        s.sha.update(f.data)
        if "END_STREAM" in flags:
            s.ended = True
            s.t_end = s.t_end or time.monotonic()
        # Receive windows: give back half a window at a time.
        self.conn_unacked += n
        if self.conn_unacked >= self.conn_window // 2:
            self.out += raw_frame(WINDOW_UPDATE, 0, 0, self.conn_unacked.to_bytes(4, "big"))
            self.conn_unacked = 0
        s.recv_unacked += n
        if (not s.stalled and not s.done and s.recv_unacked >= self.stream_window // 2):
            self.out += raw_frame(WINDOW_UPDATE, 0, s.id, s.recv_unacked.to_bytes(4, "big"))
            s.recv_unacked = 0

    def _end_block(self):
        sid, block, end_stream = self._block
        self._block = None
        fields = self.decoder.decode(bytes(block), raw=True)
        fields = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in fields]
        s = self.stream(sid)
        s.heads += 1
        pseudo = {k: v for k, v in fields if k.startswith(":")}
        regular = [(k, v) for k, v in fields if not k.startswith(":")]
        if ":status" in pseudo:
            status = int(pseudo[":status"])
            if 100 <= status < 200:
                s.informational.append((status, regular))
            else:
                if s.status is not None:
                    self.anomalies.append("second final head on stream %d" % sid)
                s.status, s.pseudo, s.headers = status, pseudo, regular
        elif s.status is not None:
            if pseudo:
                self.anomalies.append("pseudo-header in trailers on stream %d" % sid)
            s.trailers = regular
            if not end_stream:
                self.anomalies.append("trailers without END_STREAM on stream %d" % sid)
        else:
            self.anomalies.append("head without :status on stream %d" % sid)
            s.headers = regular
        if end_stream:
            s.ended = True
            s.t_end = s.t_end or time.monotonic()

    # ---- waiting ---------------------------------------------------------------------------
    def wait(self, cond, timeout=None, what="condition", allow_close=False):
        """Reads until cond() is true; returns its value.  Raises H2Error on
        timeout, or when the connection ends first (unless allow_close:
        then returns cond()'s value at that point)."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            v = cond()
            if v:
                return v
            if self.closed:
                if allow_close:
                    return cond()
                raise H2Error("connection closed while waiting for %s (%s)"
                              % (what, self.summary()))
            left = deadline - time.monotonic()
            if left <= 0:
                raise H2Error("timed out after %.1fs waiting for %s (%s)"
                              % (timeout, what, self.summary()))
            self._pump(min(left, 0.2))

    def poll(self, seconds):
        """Reads (and answers SETTINGS/PING) for that long, whatever comes."""
        deadline = time.monotonic() + seconds
        while not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._pump(min(left, 0.2))

    def stream_over(self, sid):
        """sid ended, was reset, or cannot be answered any more (the
        connection closed, or a GOAWAY left it out)."""
        s = self.streams.get(sid)
        if s is not None and s.done:
            return True
        if self.closed:
            return True
        return any(last < sid for last, _, _ in self.goaways)

    def response(self, sid, timeout=None):
        """Waits until the stream is over (see stream_over); returns it."""
        self.wait(lambda: self.stream_over(sid), timeout, "the end of stream %d" % sid)
        return self.stream(sid)

    def responses(self, sids, timeout=None):
        self.wait(lambda: all(self.stream_over(i) for i in sids), timeout,
                  "the end of %d streams" % len(sids))
        return [self.stream(i) for i in sids]

    def get(self, path="/", headers=(), timeout=None, **kw):
        return self.response(self.request("GET", path, headers, **kw), timeout)

    def wait_settings(self, timeout=None):
        """Waits for the peer's first SETTINGS frame; returns peer_settings."""
        self.wait(lambda: self.settings_frames > 0, timeout, "the server's SETTINGS")
        return self.peer_settings

    def wait_goaway(self, timeout=None):
        """Waits for a GOAWAY (or the close); returns the last GOAWAY or None."""
        self.wait(lambda: self.goaways, timeout, "a GOAWAY", allow_close=True)
        return self.goaway

    def wait_closed(self, timeout=None):
        """Reads until the peer closes; True if it did within timeout."""
        try:
            self.wait(lambda: self.closed, timeout, "the close", allow_close=True)
        except H2Error:
            return False
        return True


def h2_get(port, path="/", headers=(), **kw):
    """One GET on a fresh connection; returns the Stream."""
    with H2Client(port, **kw) as c:
        return c.get(path, headers)
