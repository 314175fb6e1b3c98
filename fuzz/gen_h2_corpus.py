#!/usr/bin/python3
"""gen_h2_corpus.py - writes the seeds of fuzz/fuzz_h2.c into fuzz/corpus/h2/.

Seeds that still crash or trip an invariant (bugs in src/ not fixed yet)
go to fuzz/repro/h2/ instead (KNOWN_BUGS, fuzz/repro/README.md), so the
CI smoke run on the corpus stays green; once fixed they move to the
corpus by leaving KNOWN_BUGS.

Each seed is fuzz_h2's input format (see the banner of fuzz/fuzz_h2.c):
a mode byte for the scripted server and the client's pacing, then records
[type][flags][stream][len:2][payload] that the harness turns into frames
after the client preface and an empty SETTINGS.  Header blocks are real
HPACK from python3-hpack, one encoder per seed (the proxy's decoder keeps
its dynamic table across the seed's blocks).

Run from anywhere: /usr/bin/python3 fuzz/gen_h2_corpus.py
"""
import os
import struct

from hpack import Encoder

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "h2")
REPRO = os.path.join(HERE, "repro", "h2")

# seed -> the bug it shows (fuzz/repro/README.md has the details)
KNOWN_BUGS = {
    # none open: big_trailers (body_trailer's store moving under the name)
    # and post_big_held / held_413 (a held DATA run on a stream answered
    # early) are fixed and are seeds now
}

# mode byte (fuzz_h2.c M_*)
CL, CHUNKED, TRAILERS, MIX = 0, 1, 2, 3
SLOW, AT_HEAD, BIND_H2, CLOSE, BIG, COALESCE = 0x04, 0x08, 0x10, 0x20, 0x40, 0x80

# frame types and flags (RFC 9113 6)
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, \
    WINDOW_UPDATE, CONTINUATION = range(10)
RAW, WAIT, STOP = 0xFF, 0xFE, 0xFD
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20


def sel(stream_id):
    """The record's stream byte for an id (fuzz_h2.c stream_id())."""
    if stream_id == 0:
        return 0xA0
    if stream_id % 2 == 1 and stream_id <= 63:
        return (stream_id - 1) // 2
    if stream_id % 2 == 0 and stream_id <= 64:
        return 0xC0 + (stream_id - 2) // 2
    if stream_id == 0x7FFFFFFF:
        return 0xE0
    raise ValueError(stream_id)


class Seed:
    def __init__(self, mode=0):
        self.b = bytearray([mode])
        self.enc = Encoder()

    def rec(self, ftype, flags=0, stream=0, payload=b"", selector=None):
        selector = sel(stream) if selector is None else selector
        self.b += bytes([ftype, flags, selector]) + struct.pack(">H", len(payload)) + payload
        return self

    def raw(self, data):
        self.b += bytes([RAW, 0, 0]) + struct.pack(">H", len(data)) + data
        return self

    def wait(self, turns=8):
        self.b += bytes([WAIT, 0, (turns - 1) % 32, 0, 0])
        return self

    def stop(self, turns=8):
        """The worker stops gracefully (GOAWAY), then turns."""
        self.b += bytes([STOP, 0, (turns - 1) % 32, 0, 0])
        return self

    def hpack(self, fields):
        return self.enc.encode(fields)

    def headers(self, stream, fields, end_stream=True, flags=END_HEADERS):
        return self.rec(HEADERS, flags | (END_STREAM if end_stream else 0), stream,
                        self.hpack(fields))

    def data(self, stream, payload, end_stream=False, flags=0):
        return self.rec(DATA, flags | (END_STREAM if end_stream else 0), stream, payload)

    def settings(self, params=(), ack=False):
        return self.rec(SETTINGS, ACK if ack else 0, 0,
                        b"".join(struct.pack(">HI", k, v) for k, v in params))

    def ack(self):
        return self.settings(ack=True)

    def rst(self, stream, code=8):
        return self.rec(RST_STREAM, 0, stream, struct.pack(">I", code))

    def ping(self, ack=False, data=b"fuzzping"):
        return self.rec(PING, ACK if ack else 0, 0, data)

    def window(self, stream, inc):
        return self.rec(WINDOW_UPDATE, 0, stream, struct.pack(">I", inc))

    def priority(self, stream, dep=0, weight=15, excl=False):
        return self.rec(PRIORITY, 0, stream,
                        struct.pack(">IB", dep | (0x80000000 if excl else 0), weight))

    def goaway(self, last=0, code=0, debug=b""):
        return self.rec(GOAWAY, 0, 0, struct.pack(">II", last, code) + debug)


def req(method="GET", path="/", authority="a.example", extra=()):
    return [(":method", method), (":scheme", "http"), (":authority", authority),
            (":path", path)] + list(extra)


SEEDS = {}


def seed(name):
    def deco(fn):
        SEEDS[name] = fn
        return fn
    return deco


@seed("get")
def _():
    return Seed(CL).ack().headers(1, req(extra=[("user-agent", "fuzz")])).wait(16)


@seed("get_h2_bind")
def _():
    return Seed(BIND_H2).ack().headers(1, req()).wait(16)


@seed("get_coalesced")
def _():
    return Seed(COALESCE | CHUNKED).ack().headers(1, req()).headers(3, req(path="/b"))


@seed("get_no_ack")
def _():
    return Seed(CL).headers(1, req()).wait(16)


@seed("head")
def _():
    return Seed(CL).ack().headers(1, req("HEAD")).wait(8).headers(3, req("HEAD", "/c")).wait(8)


@seed("post_cl")
def _():
    s = Seed(CL).ack()
    s.headers(1, req("POST", "/upload", extra=[("content-length", "11"),
                                               ("content-type", "text/plain")]), False)
    return s.data(1, b"hello world", True).wait(16)


@seed("post_chunked")
def _():
    s = Seed(CHUNKED).ack()
    s.headers(1, req("POST", "/upload"), False)
    s.data(1, b"first ").wait(2).data(1, b"second ").data(1, b"", True)
    return s.wait(16)


@seed("post_trailers")
def _():
    s = Seed(TRAILERS).ack()
    s.headers(1, req("POST", "/grpc", extra=[("te", "trailers"),
                                             ("content-type", "application/grpc")]), False)
    s.data(1, b"\x00\x00\x00\x00\x05hello")
    s.headers(1, [("x-checksum", "abc"), ("grpc-timeout", "1S")], True)
    return s.wait(16)


@seed("post_trailers_bad")
def _():
    s = Seed(CL).ack()
    s.headers(1, req("POST", "/t"), False).data(1, b"body")
    s.headers(1, [("content-length", "4"), ("X-Upper", "no")], True)
    return s.wait(16)


@seed("post_expect")
def _():
    s = Seed(CL).ack()
    s.headers(1, req("POST", "/e", extra=[("expect", "100-continue"),
                                          ("content-length", "5")]), False)
    return s.wait(8).data(1, b"12345", True).wait(16)


@seed("post_expect_other")
def _():
    s = Seed(CL).ack()
    s.headers(1, req("POST", "/e", extra=[("expect", "something-else")]), False)
    return s.data(1, b"12345", True).wait(16)


@seed("post_early_answer")
def _():
    s = Seed(AT_HEAD | CL).ack()
    s.headers(1, req("POST", "/early"), False).data(1, b"part one ").wait(16)
    return s.data(1, b"part two", True).wait(16)


@seed("post_early_rst")
def _():
    s = Seed(AT_HEAD | BIG | SLOW).ack()
    s.headers(1, req("POST", "/early", extra=[("content-length", "100")]), False)
    s.data(1, b"x" * 40).wait(20).rst(1, 8).wait(8)
    return s.headers(3, req()).wait(16)


@seed("post_big_held")
def _():
    # before the client acknowledges our SETTINGS its window is 65535:
    # a 16 KiB DATA frame does not fit the 4k stream buffer (held input)
    s = Seed(CL)
    s.headers(1, req("POST", "/big", extra=[("content-length", "16000")]), False)
    s.data(1, b"B" * 16000, True).wait(32)
    return s.ack().headers(3, req()).wait(16)


@seed("held_413")
def _():
    # the DATA run does not fit the stream's buffer (held input) and the
    # request is answered 413 (content-length past max_body_size)
    s = Seed(CL)
    s.headers(1, req("POST", "/", extra=[("content-length", "7000")]), False)
    return s.data(1, b"d" * 5000)


@seed("post_big_unknown")
def _():
    s = Seed(CHUNKED | COALESCE)
    s.headers(1, req("POST", "/big"), False)
    for i in range(4):
        s.data(1, bytes([0x41 + i]) * 1500)
    return s.data(1, b"", True)


@seed("post_too_large")
def _():
    s = Seed(CL).ack()
    s.headers(1, req("PUT", "/big", extra=[("content-length", "8000")]), False)
    return s.data(1, b"z" * 2000).wait(8).data(1, b"z" * 2000).wait(16)


@seed("post_flow_error")
def _():
    # after the ACK the stream window is 2k: 4000 bytes break it
    s = Seed(CL).ack().wait(2)
    s.headers(1, req("POST", "/f"), False)
    return s.data(1, b"w" * 4000, True).wait(16)


@seed("cl_mismatch")
def _():
    s = Seed(CL).ack()
    s.headers(1, req("POST", "/m", extra=[("content-length", "3")]), False)
    s.data(1, b"toolong", True).wait(8)
    s.headers(3, req("POST", "/m", extra=[("content-length", "30")]), False)
    return s.data(3, b"short", True).wait(16)


@seed("hold_evil")
def _():
    s = Seed(CL).ack()
    s.headers(1, req("POST", "/hold", extra=[("content-length", "9")]), False)
    s.data(1, b"an evil b").wait(2).data(1, b"", True).wait(8)
    s.headers(3, req("POST", "/hold/ok"), False).data(3, b"fine", True)
    return s.wait(16)


@seed("local_rules")
def _():
    s = Seed(CL).ack()
    s.headers(1, req(path="/deny")).headers(3, req(path="/deny/x?y=1"))
    s.headers(5, req(path="/ping")).headers(7, req(path="/ok?q=1"))
    return s.wait(16)


@seed("deny_with_body")
def _():
    s = Seed(CL).ack()
    s.headers(1, req("POST", "/deny", extra=[("content-length", "4")]), False)
    return s.data(1, b"body", True).wait(16)


@seed("streams")
def _():
    s = Seed(MIX).ack()
    for i in range(6):   # 4 allowed, the rest refused
        s.headers(1 + 2 * i, req(path="/s%d" % i))
    return s.wait(32).headers(13, req(path="/after")).wait(16)


@seed("streams_coalesced_mix")
def _():
    s = Seed(MIX | COALESCE | SLOW).ack()
    for i in range(4):
        s.headers(1 + 2 * i, req("POST", "/p%d" % i), False)
    for i in range(4):
        s.data(1 + 2 * i, b"d%d" % i, True)
    return s.wait(32)


@seed("streams_close")
def _():
    s = Seed(CLOSE | MIX).ack()
    for i in range(8):
        s.headers(1 + 2 * i, req(path="/c%d" % i)).wait(6)
    return s


@seed("keepalive_reuse")
def _():
    s = Seed(CL).ack()
    for i in range(5):
        s.headers(1 + 2 * i, req(path="/k%d" % i)).wait(10)
    return s


@seed("rst_stream")
def _():
    s = Seed(CL).ack()
    s.headers(1, req(), False).rst(1, 8).wait(4)
    return s.headers(3, req()).wait(16)


@seed("rapid_reset")
def _():
    s = Seed(SLOW).ack()
    for i in range(12):   # past h2_max_resets 8
        s.headers(1 + 2 * i, req(path="/r%d" % i), False).rst(1 + 2 * i, 8)
    return s.wait(16)


@seed("rst_idle")
def _():
    return Seed(CL).ack().rst(5).rst(0).wait(4).headers(1, req()).wait(8)


@seed("ping")
def _():
    s = Seed(CL).ack().ping().ping(ack=True).headers(1, req()).ping()
    return s.wait(8)


@seed("ping_flood")
def _():
    s = Seed(COALESCE).ack().headers(1, req())
    for _ in range(40):   # past h2_max_control 32
        s.ping()
    return s


@seed("settings")
def _():
    s = Seed(CHUNKED | BIG)
    s.settings([(1, 0), (2, 0), (3, 100), (4, 100), (5, 16384), (6, 8192), (8, 1), (0x99, 7)])
    s.ack().headers(1, req()).wait(16)
    s.window(1, 2000).window(0, 2000).wait(8).window(1, 65535).wait(16)
    return s


@seed("settings_bad")
def _():
    # ENABLE_PUSH 2, INITIAL_WINDOW_SIZE past 2^31-1, odd length
    s = Seed(CL).settings([(2, 2)]).wait(2)
    s.settings([(4, 0x80000000)]).rec(SETTINGS, 0, 0, b"\x00\x01\x00")
    return s.headers(1, req())


@seed("window_update")
def _():
    s = Seed(BIG | TRAILERS).settings([(4, 10)]).ack()
    s.headers(1, req(path="/w")).wait(16)
    for _ in range(4):
        s.window(1, 1500).wait(6)
    s.window(0, 1 << 20).window(1, 0x7FFFFFFF).wait(8)
    return s.window(1, 0).wait(4)


@seed("window_zero_conn")
def _():
    return Seed(CL).ack().window(0, 0).headers(1, req()).wait(8)


@seed("priority")
def _():
    s = Seed(CL).ack().priority(1, 0, 200).priority(3, 1, 7, True)
    s.rec(HEADERS, END_HEADERS | END_STREAM | PRIO, 5,
          struct.pack(">IB", 0x80000003, 99) + s.hpack(req()))
    s.priority(5, 5)   # depends on itself
    return s.wait(16)


@seed("padded")
def _():
    s = Seed(CL).ack()
    block = s.hpack(req("POST", "/pad", extra=[("content-length", "6")]))
    s.rec(HEADERS, END_HEADERS | PADDED, 1, b"\x05" + block + b"\x00" * 5)
    s.rec(DATA, PADDED | END_STREAM, 1, b"\x03" + b"padded" + b"\x00" * 3)
    s.rec(DATA, PADDED, 3, b"\xff")   # padding longer than the frame
    return s.wait(16)


@seed("continuation")
def _():
    s = Seed(CL).ack()
    block = s.hpack(req(path="/cont", extra=[("x-a", "1" * 40), ("x-b", "2" * 40)]))
    s.rec(HEADERS, END_STREAM, 1, block[:10])
    s.rec(CONTINUATION, 0, 1, block[10:30])
    s.rec(CONTINUATION, END_HEADERS, 1, block[30:])
    return s.wait(16)


@seed("continuation_interleaved")
def _():
    s = Seed(CL).ack()
    block = s.hpack(req())
    s.rec(HEADERS, END_STREAM, 1, block[:5]).ping()
    return s.rec(CONTINUATION, END_HEADERS, 1, block[5:]).wait(8)


@seed("continuation_flood")
def _():
    s = Seed(COALESCE).ack()
    block = s.hpack(req())
    s.rec(HEADERS, END_STREAM, 1, block[:3])
    for _ in range(40):
        s.rec(CONTINUATION, 0, 1)
    return s.rec(CONTINUATION, END_HEADERS, 1, block[3:])


@seed("continuation_wrong_stream")
def _():
    s = Seed(CL).ack()
    block = s.hpack(req())
    s.rec(HEADERS, END_STREAM, 1, block[:4])
    return s.rec(CONTINUATION, END_HEADERS, 3, block[4:]).wait(8)


@seed("goaway")
def _():
    s = Seed(CL).ack().headers(1, req(), False).goaway(1, 0, b"bye")
    return s.data(1, b"", True).wait(16).headers(3, req()).wait(8)


@seed("huge_header_list")
def _():
    s = Seed(CL).ack()
    # over h2_max_header_list 2k: 431
    s.headers(1, req(path="/big", extra=[("x-h%d" % i, "v" * 60) for i in range(30)]))
    s.wait(8)
    s.headers(3, req(path="/next")).wait(16)
    return s


@seed("header_bomb")
def _():
    s = Seed(CL).ack()
    s.headers(1, req(extra=[("x-bomb", "b" * 1000)]))   # into the dynamic table
    s.wait(4)
    # each repetition is one byte of HPACK (an indexed field), 1000+ decoded
    block = s.hpack(req(path="/bomb"))
    idx = s.enc.header_table.search(b"x-bomb", b"b" * 1000)[0]
    block += bytes([0x80 | idx]) * 12
    return s.rec(HEADERS, END_HEADERS | END_STREAM, 3, block).wait(8)


@seed("big_trailers")
def _():
    s = Seed(TRAILERS).ack()
    s.headers(1, req("POST", "/t"), False).data(1, b"x")
    # 18 fields of 60 bytes: the trailer store grows past its first 1 KiB
    s.headers(1, [("x-t%d" % i, "t" * 60) for i in range(18)], True)
    return s.wait(16)


@seed("host_mismatch")
def _():
    s = Seed(CL).ack()
    s.headers(1, req(extra=[("host", "b.example")]))
    s.headers(3, [(":method", "GET"), (":scheme", "http"), (":path", "/"),
                  ("host", "h.example:8080")])
    s.headers(5, [(":method", "GET"), (":scheme", "https"), (":path", "/")])
    return s.wait(16)


@seed("uppercase")
def _():
    s = Seed(CL).ack()
    s.headers(1, req(extra=[("X-Upper", "1")]))
    s.headers(3, req(extra=[("connection", "keep-alive")]))
    s.headers(5, req(extra=[("transfer-encoding", "chunked")]))
    s.headers(7, req(extra=[("te", "gzip")]))
    return s.wait(16)


@seed("smuggle_values")
def _():
    s = Seed(CL).ack()
    s.headers(1, req(path="/a b"))
    s.headers(3, req(extra=[("x-v", "a\r\nX-Injected: 1")]))
    s.headers(5, req(extra=[("content-length", "1"), ("content-length", "2")]), False)
    s.headers(7, req(method="GET /x HTTP/1.1"))
    s.headers(9, req(extra=[("x-n\x00", "v")]))
    return s.wait(16)


@seed("pseudo_errors")
def _():
    s = Seed(CL).ack()
    s.headers(1, [(":method", "GET"), ("x-a", "1"), (":path", "/")])   # pseudo after regular
    s.headers(3, [(":method", "GET"), (":path", "/"), (":path", "/")])
    s.headers(5, [(":status", "200")])
    s.headers(7, [(":method", "CONNECT"), (":authority", "a.example:443")])
    s.headers(9, req("CONNECT", extra=[(":protocol", "websocket")]))
    return s.wait(16)


@seed("options_query_cookies")
def _():
    s = Seed(MIX).ack()
    s.headers(1, [(":method", "OPTIONS"), (":scheme", "http"), (":authority", "a.example"),
                  (":path", "*")])
    s.headers(3, req(path="/q?a=1&b=%20", extra=[("cookie", "a=1"), ("cookie", "b=2")]))
    s.headers(5, req("DELETE", "/d", extra=[("accept", "*/*"), ("te", "trailers")]))
    return s.wait(24)


@seed("hpack_table")
def _():
    s = Seed(CL).ack()
    s.enc.header_table_size = 100   # emits a dynamic table size update
    s.headers(1, req(extra=[("x-long", "l" * 80)]))
    s.enc.header_table_size = 4096
    s.headers(3, req(extra=[("x-long", "l" * 80)]))
    s.rec(HEADERS, END_HEADERS | END_STREAM, 5, b"\x3f\xe1\x1f" + s.hpack(req()))   # too big
    return s.wait(16)


@seed("hpack_garbage")
def _():
    s = Seed(CL).ack()
    return s.rec(HEADERS, END_HEADERS | END_STREAM, 1, b"\xff\xff\xff\xff\x0f\x82").wait(8)


@seed("data_idle_stream")
def _():
    s = Seed(CL).ack().data(1, b"nope").wait(2)
    return s.headers(3, req()).wait(8)


@seed("even_and_huge_ids")
def _():
    s = Seed(CL).ack().headers(2, req()).wait(2)
    s.headers(0x7FFFFFFF, req()).wait(2)
    s.rec(HEADERS, END_HEADERS | END_STREAM, payload=s.hpack(req()), selector=0xF0)   # reserved bit
    return s.headers(0, req()).wait(8)


@seed("stream_id_backwards")
def _():
    s = Seed(CL).ack().headers(5, req()).wait(8)
    return s.headers(3, req()).wait(8)


@seed("push_promise")
def _():
    s = Seed(CL).ack().headers(1, req(), False)
    s.rec(PUSH_PROMISE, END_HEADERS, 1, struct.pack(">I", 2) + s.hpack(req()))
    return s.wait(8)


@seed("unknown_frames")
def _():
    s = Seed(CL).ack().rec(0x0A, 0, 0, b"\x00\x03abcorigin").rec(0x0C, 0, 0, b"\x00\x00")
    s.rec(0x42, 0xFF, 1, b"whatever").headers(1, req())
    return s.wait(8)


@seed("raw_bad_frames")
def _():
    s = Seed(CL).ack().headers(1, req()).wait(8)
    # a DATA frame header announcing far past the max frame size
    return s.raw(b"\x01\x00\x00\x00\x00\x00\x00\x00\x03" + b"x" * 32).wait(8)


@seed("raw_split_frame")
def _():
    s = Seed(CL).ack()
    block = s.hpack(req(path="/split"))
    frame = struct.pack(">I", len(block))[1:] + bytes([HEADERS, END_HEADERS | END_STREAM]) + \
        struct.pack(">I", 1) + block
    for i in range(0, len(frame), 3):
        s.raw(frame[i:i + 3])
    return s.wait(16)


@seed("slow_big_chunked")
def _():
    s = Seed(SLOW | BIG | CHUNKED).ack().headers(1, req()).headers(3, req("HEAD"))
    return s.wait(32).window(1, 20000).window(0, 20000).wait(32)


@seed("client_closes_midway")
def _():
    s = Seed(SLOW | BIG | CL).ack()
    s.headers(1, req("POST", "/u"), False).data(1, b"abc")
    return s.headers(3, req()).wait(4)


@seed("until_close_mix")
def _():
    s = Seed(MIX | BIG).ack()
    for i in range(6):
        s.headers(1 + 2 * i, req(path="/m%d" % i)).wait(12)
    return s


@seed("streams_over_limit")
def _():
    s = Seed(COALESCE | CL).ack()
    for i in range(7):   # h2_max_streams 4: 5, 6 and 7 are refused one by one
        s.headers(1 + 2 * i, req("POST", "/o%d" % i), False)
    for i in range(7):
        s.data(1 + 2 * i, b"x", True)
    return s


@seed("deny_body_coalesced")
def _():
    s = Seed(COALESCE | CL).ack()
    s.headers(1, req("POST", "/deny"), False).data(1, b"dropped").data(1, b"", True)
    return s.headers(3, req("POST", "/ping", extra=[("content-length", "2")]), False).data(3, b"ok", True)


@seed("graceful_stop")
def _():
    s = Seed(SLOW | BIG | CL).ack()
    s.headers(1, req()).headers(3, req("POST", "/s"), False).wait(4)
    s.stop(4).data(3, b"late body", True).headers(5, req()).wait(32)
    return s


@seed("graceful_stop_idle")
def _():
    return Seed(CL).ack().headers(1, req()).wait(16).stop(8)


@seed("trailers_odd")
def _():
    s = Seed(TRAILERS).ack()
    s.headers(1, req("POST", "/t1"), False).data(1, b"a")
    s.headers(1, [("x-sp", " leading")], True).wait(4)
    s.headers(3, req("POST", "/t2"), False).data(3, b"b")
    s.headers(3, [("host", "x.example"), ("te", "trailers"), ("expect", "100-continue")], True)
    s.wait(4)
    s.headers(5, req("POST", "/t3"), False).data(5, b"c")
    s.headers(5, [("x-empty", ""), ("x-tab", "a\tb")], True)
    return s.wait(16)


@seed("header_values_odd")
def _():
    s = Seed(CL).ack()
    s.headers(1, req(extra=[("x-sp", " leading")]))
    s.headers(3, req(extra=[("x-tail", "trailing ")]))
    s.headers(5, req(extra=[("x-ctl", "a\x01b")]))
    s.headers(7, req(extra=[("x-del", "a\x7fb")]))
    s.headers(9, req(extra=[("x-8bit", "caf\xc3\xa9")]))
    s.headers(11, req(path="/p#frag"))
    s.headers(13, req(authority="bad host"))
    return s.wait(16)


@seed("zero_window")
def _():
    # the client's window is 0: responses wait; a denied body still comes
    s = Seed(CL).settings([(4, 0)]).ack()
    s.headers(1, req("POST", "/deny"), False).wait(8).data(1, b"late").wait(4)
    s.data(1, b"", True).headers(3, req()).wait(8)
    s.window(1, 100).window(3, 5).wait(8).window(3, 1000).wait(8)
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(REPRO, exist_ok=True)
    for name, fn in SEEDS.items():
        where, other = (REPRO, OUT) if name in KNOWN_BUGS else (OUT, REPRO)
        if os.path.exists(os.path.join(other, name)):
            os.remove(os.path.join(other, name))
        with open(os.path.join(where, name), "wb") as f:
            f.write(bytes(fn().b))
    print("wrote %d seeds to %s, %d to %s" % (len(SEEDS) - len(KNOWN_BUGS), OUT,
                                             len(KNOWN_BUGS), REPRO))


if __name__ == "__main__":
    main()
