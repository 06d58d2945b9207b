"""An independent raftlog client, written from docs/protocol.md alone.

It shares no code with the C++ library: if the two agree, the protocol
document says enough. Uses Debian's python3-zmq and python3-msgpack.
"""

import itertools
import time

import msgpack
import zmq

VERSION = 1
HEARTBEAT_TOPIC = b"_raftlog.heartbeat"


class ClientError(Exception):
    def __init__(self, code, body):
        super().__init__(f"{code}: {body.get('message', '')}")
        self.code = code
        self.body = body


class Client:
    """Request/reply with the client endpoints (section 4, Envelope)."""

    def __init__(self, ctx, endpoints, timeout_ms=2000):
        self.ctx = ctx
        self.endpoints = list(endpoints)
        self.timeout_ms = timeout_ms
        self.ids = itertools.count(1)
        self.sockets = {}
        self.leader = None

    def _socket(self, endpoint):
        if endpoint not in self.sockets:
            s = self.ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(endpoint)
            self.sockets[endpoint] = s
        return self.sockets[endpoint]

    def call(self, endpoint, op, args):
        """One request; returns (code, body). Raises TimeoutError."""
        request_id = next(self.ids)
        s = self._socket(endpoint)
        s.send(msgpack.packb([VERSION, request_id, op, args], use_bin_type=True))
        deadline = time.monotonic() + self.timeout_ms / 1000
        while time.monotonic() < deadline:
            if not s.poll(max(1, int((deadline - time.monotonic()) * 1000))):
                continue
            version, rid, code, body = msgpack.unpackb(s.recv(), raw=False)
            assert version == VERSION
            if rid == request_id:
                return code, body
        self.sockets.pop(endpoint).close()
        raise TimeoutError(f"{endpoint}: no reply to {op}")

    def push(self, topic, payload, producer=None, seq=None, deadline_s=10):
        """Op push, following not_leader redirects (section 4, Op push)."""
        args = {"topic": topic, "payload": payload}
        if producer is not None:
            args["producer"] = producer
            args["seq"] = seq
        end = time.monotonic() + deadline_s
        rotation = itertools.cycle(self.endpoints)
        while time.monotonic() < end:
            endpoint = self.leader or next(rotation)
            try:
                code, body = self.call(endpoint, "push", args)
            except TimeoutError:
                self.leader = None
                continue
            if code == "ok":
                self.leader = endpoint
                return body
            self.leader = None
            if code == "not_leader" and body.get("leader_endpoint"):
                self.leader = body["leader_endpoint"]
            elif code in ("not_leader", "busy"):
                time.sleep(0.02)  # an election or back-pressure: try again shortly
            else:
                raise ClientError(code, body)
        raise TimeoutError("push: no leader acknowledged before the deadline")

    def fetch(self, endpoint, start, max_count=1000):
        code, body = self.call(endpoint, "fetch", {"from": start, "max_count": max_count})
        if code != "ok":
            raise ClientError(code, body)
        return body

    def close(self):
        for s in self.sockets.values():
            s.close()


def decode_event_record(data):
    """Section 4, Event records: [1, topic, producer, seq, timestamp, payload]."""
    version, topic, producer, seq, timestamp, payload = msgpack.unpackb(data, raw=False)
    assert version == 1
    return topic, producer, seq, timestamp, payload


class Subscriber:
    """Gap-free subscription as section 5 describes it."""

    def __init__(self, ctx, client, pub_endpoints, topic_prefix="", start=1):
        self.client = client
        self.prefix = topic_prefix
        self.last = start - 1  # index of the last Command entry seen
        self.sub = ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.setsockopt(zmq.LINGER, 0)
        for e in pub_endpoints:
            self.sub.connect(e)
        self.ready = []  # events ready to hand out: (index, topic, producer, seq, payload)
        self._fill()  # a fresh connect is a gap

    def _fill(self):
        for endpoint in itertools.islice(itertools.cycle(self.client.endpoints), 6):
            try:
                while True:
                    body = self.client.fetch(endpoint, self.last + 1)
                    entries = body["entries"]
                    if not entries:
                        return
                    for index, _term, kind, data in entries:
                        if kind == 2:
                            topic, producer, seq, _ts, payload = decode_event_record(data)
                            if topic.startswith(self.prefix):
                                self.ready.append((index, topic, producer, seq, payload))
                            self.last = index
            except TimeoutError:
                continue

    def next(self, timeout_s=5):
        end = time.monotonic() + timeout_s
        while not self.ready and time.monotonic() < end:
            if not self.sub.poll(100):
                continue
            topic, body = self.sub.recv_multipart()
            if topic == HEARTBEAT_TOPIC:
                last_index, _commit, _node = msgpack.unpackb(body, raw=False)
                if last_index > self.last:
                    self._fill()
                continue
            index, _term, _ts, payload, producer, seq, prev = msgpack.unpackb(body, raw=False)
            if index <= self.last:
                continue  # already delivered (another node, or fetched)
            if prev != self.last:
                self._fill()  # a gap: fetch, then this message is a duplicate
                continue
            self.last = index
            topic = topic.decode()
            if topic.startswith(self.prefix):
                self.ready.append((index, topic, producer, seq, payload))
        return self.ready.pop(0) if self.ready else None

    def close(self):
        self.sub.close()
