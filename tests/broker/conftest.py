"""Fixtures: a real fjord process on a free loopback port with its own data dir."""
import os
import pathlib
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from ports import free_port  # noqa: E402
from platformatic import CLIENTS_DIR, node_major, run_platformatic  # noqa: E402,F401

BIN = os.environ.get("FJORD_BIN", str(pathlib.Path(__file__).resolve().parents[2] / "build/bin/fjord"))


# The two log I/O backends; tests of the storage path run on each.
IO_BACKENDS = ["io_uring", "pwrite"]


def block_io_uring():
    """For preexec_fn: a seccomp filter making io_uring_setup fail with EPERM in the
    child, as Docker's default profile does (x86_64 syscall 425)."""
    import ctypes

    class SockFilter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                    ("k", ctypes.c_uint)]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    allow, eperm = 0x7FFF0000, 0x00050000 | 1
    program = [(0x20, 0, 0, 4), (0x15, 1, 0, 0xC000003E), (0x06, 0, 0, allow),  # other arch: allow
               (0x20, 0, 0, 0), (0x15, 0, 1, 425), (0x06, 0, 0, eperm), (0x06, 0, 0, allow)]
    filters = (SockFilter * len(program))(*[SockFilter(*f) for f in program])
    prog = SockFprog(len(program), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:  # NO_NEW_PRIVS, SECCOMP
        raise OSError(ctypes.get_errno(), "seccomp")


class Broker:
    def __init__(self, data_dir, extra=(), preexec_fn=None, quorum=True, smp=2):
        self.data_dir = data_dir
        self.smp = smp  # None: the node's default
        self.quorum = quorum  # False: a lone broker, its metadata in a local file
        self.preexec_fn = preexec_fn
        self.extra = list(extra)
        self.port = free_port()
        self.controller_port = free_port()
        self.admin_port = free_port()
        self.proc = None
        self.log_path = pathlib.Path(data_dir) / "fjord.log"

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        # A combined node, its own one-voter controller quorum, as `make run` starts.
        args = [BIN, "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                "--override", "process.roles=broker,controller", "--override", "controller.listener.names=CONTROLLER",
                "--override", f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}"]
        if not self.quorum:
            args = [BIN, "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}"]
        args += ["--override", f"log.dirs={self.data_dir}/data",
                 "--override", f"admin.listener=127.0.0.1:{self.admin_port}"]
        if self.smp is not None:
            args += ["--smp", str(self.smp)]
        for e in self.extra:
            args += ["--override", e]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=self.preexec_fn)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fjord exited: {self.log_path.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("fjord did not start listening within 10 s")

    def stop(self, sig=signal.SIGINT):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture
def broker():
    with tempfile.TemporaryDirectory(prefix="fjord-test-") as d:
        b = Broker(d, extra=["num.partitions=6"]).start()
        yield b
        b.stop()


def send_request(s, request, correlation_id):
    """Sends a request (a kafka-python protocol object) framed with a v1 request header."""
    header = struct.pack(">hhih", request.API_KEY, request.API_VERSION, correlation_id, 4) + b"test"
    payload = header + request.encode()
    s.sendall(struct.pack(">i", len(payload)) + payload)


def call(broker, request, correlation_id=7):
    """One request on a fresh socket (see send_request); returns the decoded response."""
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as s:
        send_request(s, request, correlation_id)
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        data = recv_exact(s, size)
    assert struct.unpack(">i", data[:4])[0] == correlation_id
    return request.RESPONSE_TYPE.decode(data[4:])


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def delete_records(broker, topic, partition, offset):
    """DeleteRecords v0 (kafka-python 2.0 has no class for it): (error code, low watermark)."""
    from kafka.protocol.api import Request, Response
    from kafka.protocol.types import Array, Int16, Int32, Int64, Schema, String

    class DeleteRecordsResponse_v0(Response):
        API_KEY, API_VERSION = 21, 0
        SCHEMA = Schema(("throttle_time_ms", Int32),
                        ("topics", Array(("name", String("utf-8")),
                                         ("partitions", Array(("partition", Int32), ("low_watermark", Int64),
                                                              ("error_code", Int16))))))

    class DeleteRecordsRequest_v0(Request):
        API_KEY, API_VERSION, RESPONSE_TYPE = 21, 0, DeleteRecordsResponse_v0
        SCHEMA = Schema(("topics", Array(("name", String("utf-8")),
                                         ("partitions", Array(("partition", Int32), ("offset", Int64))))),
                        ("timeout_ms", Int32))

    r = call(broker, DeleteRecordsRequest_v0([(topic, [(partition, offset)])], 10000))
    (_, low, error), = r.topics[0][1]
    return error, low


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    return buf
