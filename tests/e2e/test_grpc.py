"""gRPC through gatehouse: a real grpcio client and server (python3-grpcio),
gatehouse between them (frontend: a plain bind, HTTP/2 with prior
knowledge; backend: `server g ADDR proto h2`).

No protoc: the service is a generic handler on bytes (identity
serializers), methods /e2e.Test/<Name>:

  Unary         echoes the request; metadata in: its names and values go
                back in the initial metadata (x-echo-*), a trailing
                metadata field x-trailer-md: done
  Fail          aborts NOT_FOUND with a message (grpc-status/grpc-message
                in a trailers-only response)
  ServerStream  request "N[:PAUSE_MS]" -> N messages "i:<pattern>", PAUSE_MS
                apart; "N:0:fail" aborts RESOURCE_EXHAUSTED after N messages
                (grpc-status in real trailers, after DATA)
  ClientStream  -> "count:sha256" of the messages received
  Bidi          answers every message at once with "echo:" + message

Checks: unary, server streaming (100 messages), client streaming, an
interleaved bidirectional stream (send one, receive one, 50 times), error
statuses with their messages (trailers-only and after messages), 4 MiB
messages both ways, metadata both ways (and X-Forwarded-For added by the
proxy), 100 concurrent calls, and `timeout server` (1 s): a stream whose
messages come less than 1 s apart lives 3 s, one silent for longer is
cut.  (gRPC to an HTTP/1.1 server is not possible: no test.)
"""

import hashlib
import os
import queue
import threading
import time
from concurrent import futures

import pytest

import ghutil
from ghutil import SLACK, backend_block, frontend_block, global_block

grpc = pytest.importorskip("grpc")

SERVICE = "e2e.Test"
BIG = 4 * ghutil.MiB
MAX_MSG = 16 * ghutil.MiB
OPTS = [("grpc.max_receive_message_length", MAX_MSG),
        ("grpc.max_send_message_length", MAX_MSG)]
CALL_TIMEOUT = 15 * SLACK


def pattern(n, seed=0):
    return hashlib.sha256(b"%d" % seed).digest() * (n // 32) + b"x" * (n % 32)


class GrpcOrigin:
    """A grpc.server on 127.0.0.1 (cleartext h2c) with the handlers above;
    records the invocation metadata of every call."""

    def __init__(self):
        self.calls = []           # (method, {name: value}) in arrival order
        self.lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=64), options=OPTS)
        h = {
            "Unary": grpc.unary_unary_rpc_method_handler(self.unary),
            "Fail": grpc.unary_unary_rpc_method_handler(self.fail),
            "ServerStream": grpc.unary_stream_rpc_method_handler(self.server_stream),
            "ClientStream": grpc.stream_unary_rpc_method_handler(self.client_stream),
            "Bidi": grpc.stream_stream_rpc_method_handler(self.bidi),
        }
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, h),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.addr = "127.0.0.1:%d" % self.port
        self.server.start()

    def close(self):
        self.server.stop(grace=None).wait(5)

    def _record(self, name, context):
        md = {}
        for k, v in context.invocation_metadata():
            md.setdefault(k, []).append(v)
        with self.lock:
            self.calls.append((name, md))
        return md

    def unary(self, request, context):
        md = self._record("Unary", context)
        echo = [("x-echo-" + k, v[0]) for k, v in md.items()
                if k.startswith("x-") and not k.endswith("-bin") and not k.startswith("x-forw")]
        echo += [(k, v[0]) for k, v in md.items() if k.endswith("-bin")]
        context.send_initial_metadata(echo)
        context.set_trailing_metadata((("x-trailer-md", "done"),))
        return request

    def fail(self, request, context):
        self._record("Fail", context)
        context.abort(grpc.StatusCode.NOT_FOUND, "no such thing: %s" % request.decode())

    def server_stream(self, request, context):
        self._record("ServerStream", context)
        parts = request.decode().split(":")
        n = int(parts[0])
        pause = int(parts[1]) / 1000.0 if len(parts) > 1 else 0
        for i in range(n):
            if i and pause:
                time.sleep(pause)
            yield b"%d:" % i + pattern(100 + i, i)
        if len(parts) > 2 and parts[2] == "fail":
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "stopped after %d" % n)

    def client_stream(self, request_iterator, context):
        self._record("ClientStream", context)
        h = hashlib.sha256()
        n = 0
        for m in request_iterator:
            h.update(m)
            n += 1
        return b"%d:%s" % (n, h.hexdigest().encode())

    def bidi(self, request_iterator, context):
        self._record("Bidi", context)
        for m in request_iterator:
            yield b"echo:" + m


@pytest.fixture
def grpc_origin():
    o = GrpcOrigin()
    yield o
    o.close()


def config(port, origin, be=""):
    return (global_block(1) + frontend_block(port, "app", "http")
            + backend_block("app", ["%s proto h2" % origin.addr], "http", be))


@pytest.fixture
def through(gatehouse, grpc_origin, port):
    """gatehouse in front of the gRPC origin (timeout server 1s); yields a
    function that makes a method callable on a channel to gatehouse."""
    gatehouse(config(port, grpc_origin, be="timeout server 1s"))
    ch = grpc.insecure_channel("127.0.0.1:%d" % port, options=OPTS + [("grpc.enable_retries", 0)])
    try:
        grpc.channel_ready_future(ch).result(timeout=10 * SLACK)

        def method(kind, name):
            return getattr(ch, kind)("/%s/%s" % (SERVICE, name))
        yield method
    finally:
        ch.close()


# ---- the four kinds of call ---------------------------------------------------------

def test_unary(through, grpc_origin):
    call = through("unary_unary", "Unary")
    for i in range(5):
        msg = pattern(1000 + i, i)
        assert call(msg, timeout=CALL_TIMEOUT) == msg
    assert [c[0] for c in grpc_origin.calls] == ["Unary"] * 5


def test_server_streaming(through):
    call = through("unary_stream", "ServerStream")
    got = list(call(b"100", timeout=CALL_TIMEOUT))
    assert len(got) == 100
    for i, m in enumerate(got):
        assert m == b"%d:" % i + pattern(100 + i, i)


def test_client_streaming(through):
    call = through("stream_unary", "ClientStream")
    msgs = [pattern(i * 97, i) for i in range(100)]
    h = hashlib.sha256(b"".join(msgs)).hexdigest()
    assert call(iter(msgs), timeout=CALL_TIMEOUT) == b"100:%s" % h.encode()


def test_bidirectional_interleaved(through):
    """Send one, receive its answer, 50 times, on one stream: nothing may
    wait for the end of the request stream or for a full buffer."""
    call = through("stream_stream", "Bidi")
    q = queue.Queue()
    responses = call(iter(q.get, None), timeout=CALL_TIMEOUT)
    t0 = time.monotonic()
    for i in range(50):
        msg = b"ping %d " % i + pattern(i * 11, i)
        q.put(msg)
        assert next(responses) == b"echo:" + msg, i
    q.put(None)
    assert list(responses) == []
    assert responses.code() == grpc.StatusCode.OK
    assert time.monotonic() - t0 < 10 * SLACK


# ---- status, messages, metadata --------------------------------------------------

def test_error_status_and_message(through):
    """A trailers-only response: grpc-status 5 (NOT_FOUND) and its
    grpc-message reach the client."""
    call = through("unary_unary", "Fail")
    with pytest.raises(grpc.RpcError) as ei:
        call(b"widget-42", timeout=CALL_TIMEOUT)
    assert ei.value.code() == grpc.StatusCode.NOT_FOUND, ei.value
    assert ei.value.details() == "no such thing: widget-42"


def test_error_status_after_messages(through):
    """grpc-status in real trailers, after DATA."""
    call = through("unary_stream", "ServerStream")
    it = call(b"3:0:fail", timeout=CALL_TIMEOUT)
    got = []
    with pytest.raises(grpc.RpcError) as ei:
        for m in it:
            got.append(m)
    assert len(got) == 3
    assert ei.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, ei.value
    assert ei.value.details() == "stopped after 3"


def test_large_messages_both_ways(through):
    call = through("unary_unary", "Unary")
    msg = os.urandom(BIG)
    got = call(msg, timeout=CALL_TIMEOUT * 2)
    assert len(got) == BIG and hashlib.sha256(got).digest() == hashlib.sha256(msg).digest()


def test_metadata_both_ways(through, grpc_origin):
    call = through("unary_unary", "Unary")
    md = (("x-client-md", "hello"), ("x-data-bin", b"\x00\x01\xfe\xff"))
    resp, c = call.with_call(b"md", metadata=md, timeout=CALL_TIMEOUT)
    assert resp == b"md"
    initial = dict(c.initial_metadata())
    trailing = dict(c.trailing_metadata())
    assert initial.get("x-echo-x-client-md") == "hello", initial
    assert initial.get("x-data-bin") == b"\x00\x01\xfe\xff", initial
    assert trailing.get("x-trailer-md") == "done", trailing
    assert c.code() == grpc.StatusCode.OK
    [(name, seen)] = grpc_origin.calls
    assert seen["x-client-md"] == ["hello"] and seen["x-data-bin"] == [b"\x00\x01\xfe\xff"]
    if ghutil.IMPL != "haproxy":
        assert seen["x-forwarded-for"][-1].split(",")[-1].strip() == "127.0.0.1", seen


def test_concurrent_calls(through):
    call = through("unary_unary", "Unary")
    msgs = [pattern(500 + i * 37, i) for i in range(100)]
    futs = [call.future(m, timeout=CALL_TIMEOUT) for m in msgs]
    for m, f in zip(msgs, futs):
        assert f.result() == m


# ---- timeout server (1 s) ---------------------------------------------------------

def test_long_lived_stream_with_short_pauses(through):
    """8 messages 400 ms apart: 3 s in all, three times `timeout server`,
    never 1 s without data."""
    call = through("unary_stream", "ServerStream")
    t0 = time.monotonic()
    got = list(call(b"8:400", timeout=CALL_TIMEOUT))
    took = time.monotonic() - t0
    assert len(got) == 8 and took >= 2.8, took
    for i, m in enumerate(got):
        assert m == b"%d:" % i + pattern(100 + i, i)


def test_long_lived_bidi_stream_with_short_pauses(through):
    """The client speaks every 400 ms for 3 s; each message is answered
    at once."""
    call = through("stream_stream", "Bidi")
    q = queue.Queue()
    responses = call(iter(q.get, None), timeout=CALL_TIMEOUT)
    t0 = time.monotonic()
    for i in range(8):
        if i:
            time.sleep(0.4)
        q.put(b"tick %d" % i)
        assert next(responses) == b"echo:tick %d" % i
    q.put(None)
    assert list(responses) == [] and responses.code() == grpc.StatusCode.OK
    assert time.monotonic() - t0 >= 2.8


def test_silent_stream_is_cut_by_timeout_server(through):
    """2.5 s without a message from the server: longer than `timeout
    server`, the call fails (not OK) well before the server's next
    message."""
    call = through("unary_stream", "ServerStream")
    it = call(b"2:2500", timeout=CALL_TIMEOUT)
    t0 = time.monotonic()
    got = []
    with pytest.raises(grpc.RpcError) as ei:
        for m in it:
            got.append(m)
    assert got == [b"0:" + pattern(100, 0)], got
    assert ei.value.code() != grpc.StatusCode.OK
    assert time.monotonic() - t0 < 2.4, "cut after %.1fs" % (time.monotonic() - t0)
