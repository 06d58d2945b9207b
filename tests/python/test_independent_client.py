"""The independent Python client against a real 3-node raftlogd cluster.

Run by ctest as: /usr/bin/python3 -m unittest test_independent_client
with RAFTLOGD set to the daemon's path. Every process it starts, it stops.
"""

import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import msgpack
import zmq

from raftlog_client import Client, ClientError, Subscriber


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout_s):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


class Cluster:
    def __init__(self, size=3):
        self.dir = tempfile.TemporaryDirectory(prefix="raftlog-py-")
        ports = [(free_port(), free_port(), free_port()) for _ in range(size)]
        self.client_endpoints = [f"tcp://127.0.0.1:{c}" for _, c, _ in ports]
        self.pub_endpoints = [f"tcp://127.0.0.1:{p}" for _, _, p in ports]
        peers = [
            f"peer = {i + 1}=tcp://127.0.0.1:{p},tcp://127.0.0.1:{c},tcp://127.0.0.1:{u}"
            for i, (p, c, u) in enumerate(ports)
        ]
        self.procs = []
        self.logs = []
        for i in range(size):
            conf = os.path.join(self.dir.name, f"node{i + 1}.conf")
            with open(conf, "w") as f:
                f.write(f"id = {i + 1}\ndata-dir = {self.dir.name}/data{i + 1}\n")
                f.write("tick-ms = 20\nelection-ticks = 10\nheartbeat-ticks = 2\n")
                f.write("\n".join(peers) + "\n")
            log = open(os.path.join(self.dir.name, f"node{i + 1}.log"), "w")
            self.logs.append(log)
            self.procs.append(
                subprocess.Popen([os.environ["RAFTLOGD"], "--config", conf], stdout=log, stderr=log)
            )

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        for log in self.logs:
            log.close()
        self.dir.cleanup()


class IndependentClientTest(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster()
        self.ctx = zmq.Context()
        self.client = Client(self.ctx, self.cluster.client_endpoints)

    def tearDown(self):
        self.client.close()
        self.ctx.destroy(linger=0)
        self.cluster.stop()

    def leader_known(self):
        try:
            roles = [self.client.call(e, "status", {})[1]["role"] for e in self.client.endpoints]
            return roles.count("leader") == 1
        except TimeoutError:
            return False

    def test_push_then_subscribe_delivers_each_event_once_in_order(self):
        self.assertTrue(wait_for(self.leader_known, 10))
        acks = []
        for seq in range(1, 51):
            topic = "py.even" if seq % 2 == 0 else "py.odd"
            acks.append(self.client.push(topic, f"event-{seq}".encode(), "py-producer", seq))
        self.assertTrue(all(not a["duplicate"] for a in acks))
        indexes = [a["index"] for a in acks]
        self.assertEqual(indexes, sorted(indexes))

        # A retry of seq 7 is answered with the original index.
        again = self.client.push("py.odd", b"event-7", "py-producer", 7)
        self.assertTrue(again["duplicate"])
        self.assertEqual(again["index"], acks[6]["index"])

        # Subscribe from index 1, only "py.even": the history comes by fetch.
        sub = Subscriber(self.ctx, self.client, self.cluster.pub_endpoints, "py.even", start=1)
        got = []
        while len(got) < 25:
            e = sub.next()
            self.assertIsNotNone(e, f"only {len(got)} events arrived")
            got.append(e)
        self.assertEqual([g[0] for g in got], [acks[s - 1]["index"] for s in range(2, 51, 2)])
        self.assertEqual([g[4] for g in got], [f"event-{s}".encode() for s in range(2, 51, 2)])
        self.assertTrue(all(g[1] == "py.even" and g[2] == "py-producer" for g in got))

        # Then live: new events arrive through PUB, still once each, in order.
        live = [self.client.push("py.even", f"live-{n}".encode(), "py-producer", 100 + n)
                for n in range(10)]
        got = [sub.next() for _ in range(10)]
        self.assertEqual([g[0] for g in got], [a["index"] for a in live])
        # Nothing more, nothing twice: an event pushed after all that is the
        # very next one delivered (a hang fails the deadline instead), and so
        # is a second one (the other nodes' copies of the first come between).
        for seq in (200, 201):
            marker = self.client.push("py.even", b"marker", "py-producer", seq)
            got = sub.next(timeout_s=10)
            self.assertIsNotNone(got, "the marker never arrived")
            self.assertEqual((got[0], got[4]), (marker["index"], b"marker"))
        sub.close()

    def test_push_batch_answers_each_event_in_order(self):
        self.assertTrue(wait_for(self.leader_known, 10))
        leader = next(e for e in self.client.endpoints
                      if self.client.call(e, "status", {})[1]["role"] == "leader")
        events = [{"topic": "py.batch", "payload": f"b-{s}".encode(), "seq": s} for s in (1, 2, 3)]
        code, body = self.client.call(leader, "push_batch",
                                      {"producer": "py-batch", "events": events})
        self.assertEqual(code, "ok", body)
        first = body["results"]
        self.assertEqual([r["index"] for r in first],
                         [first[0]["index"] + i for i in range(3)])
        self.assertFalse(any(r["duplicate"] for r in first))
        # The same again with one more: the three are the originals.
        more = events + [{"topic": "py.batch", "payload": b"b-4", "seq": 4}]
        code, body = self.client.call(leader, "push_batch", {"producer": "py-batch", "events": more})
        self.assertEqual(code, "ok", body)
        self.assertEqual([r["duplicate"] for r in body["results"]], [True, True, True, False])
        self.assertEqual([r["index"] for r in body["results"][:3]], [r["index"] for r in first])
        code, body = self.client.call(
            leader, "push_batch",
            {"producer": "py-batch", "events": [{"topic": "_raftlog.x", "payload": b"", "seq": 5}]})
        self.assertEqual(code, "invalid_input")

    def test_bad_requests_get_clear_errors(self):
        self.assertTrue(wait_for(self.leader_known, 10))
        code, body = self.client.call(self.client.endpoints[0], "no-such-op", {})
        self.assertEqual(code, "invalid_input")
        self.assertIn("unknown op", body["message"])
        with self.assertRaises(ClientError) as e:
            self.client.push("_raftlog.mine", b"x")
        self.assertEqual(e.exception.code, "invalid_input")
        s = self.ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(self.client.endpoints[0])
        s.send(b"\xc1 not msgpack")
        self.assertTrue(s.poll(3000))
        version, _rid, code, body = msgpack.unpackb(s.recv(), raw=False)
        self.assertEqual((version, code), (1, "invalid_input"))
        s.close()


if __name__ == "__main__":
    unittest.main()
