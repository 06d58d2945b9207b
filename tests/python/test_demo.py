"""tools/demo.sh (make demo) when one of its fixed ports is taken.

Run by ctest as: /usr/bin/python3 -m unittest test_demo, with BUILD set to
the build directory. The demo must refuse to start, name the port, and exit
non-zero, leaving no process behind (it starts none).
"""

import os
import socket
import subprocess
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORT = 7102  # node 2's client endpoint in conf/


class DemoBusyPortTest(unittest.TestCase):
    def test_a_taken_port_is_named_and_fails_the_demo(self):
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            holder.bind(("127.0.0.1", PORT))
            holder.listen()
        except OSError:
            pass  # someone else holds it: taken all the same
        try:
            run = subprocess.run(
                ["bash", os.path.join(REPO, "tools", "demo.sh")],
                env=dict(os.environ, BUILD=os.environ["BUILD"]),
                cwd=REPO, capture_output=True, text=True, timeout=120)
        finally:
            holder.close()
        self.assertNotEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn(f"demo: port {PORT} on 127.0.0.1 (node 2's client endpoint) is taken",
                      run.stderr)
        self.assertNotIn("started raftlogd", run.stdout, "it started nodes anyway")
        self.assertNotIn("pushing", run.stdout, "it pushed events anyway")


if __name__ == "__main__":
    unittest.main()
