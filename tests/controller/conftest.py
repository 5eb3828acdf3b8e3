"""Fixtures: real controller and broker processes forming a quorum on loopback (or, for
network cuts, across a network namespace joined by a veth pair)."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from ports import free_port  # noqa: E402
from platformatic import run_platformatic  # noqa: E402

BIN_DIR = pathlib.Path(os.environ.get("FJORD_BIN_DIR", pathlib.Path(__file__).resolve().parents[2] / "build/bin"))
FJORD = str(BIN_DIR / "fjord")
QUORUM_TOOL = str(BIN_DIR / "fjord-quorum")
ELECTION_TIMEOUT_MS = 1000  # Kafka's default controller.quorum.election.timeout.ms


def wait_until(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Node:
    """One fjord process (controller, broker, or both) with its own data dir."""

    def __init__(self, workdir, node_id, roles, voters, cluster_id, overrides=(), netns=None, host="127.0.0.1",
                 controller_port=None):
        self.node_id, self.roles, self.netns, self.host = node_id, roles, netns, host
        self.dir = pathlib.Path(workdir) / f"node{node_id}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "fjord.log"
        self.kafka_port = free_port() if "broker" in roles else None
        self.controller_port = controller_port
        listeners = []
        if self.kafka_port:
            listeners.append(f"PLAINTEXT://127.0.0.1:{self.kafka_port}")
        if "controller" in roles:
            listeners.append(f"CONTROLLER://{host}:{controller_port}")
        self.overrides = [
            f"node.id={node_id}", f"process.roles={roles}", f"controller.quorum.voters={voters}",
            f"listeners={','.join(listeners)}", "controller.listener.names=CONTROLLER",
            f"log.dirs={self.dir}/data", f"admin.listener=127.0.0.1:{free_port()}",
            f"controller.quorum.election.timeout.ms={ELECTION_TIMEOUT_MS}", *overrides]
        self.proc = None
        self.run_fjord(["format", "--cluster-id", cluster_id], check=True)

    def prefix(self):
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    def run_fjord(self, args, check=False):
        cmd = [*self.prefix(), FJORD, *args]
        for o in self.overrides:
            cmd += ["--override", o]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=check)

    def start(self):
        cmd = [*self.prefix(), FJORD, "--smp", "1"]
        for o in self.overrides:
            cmd += ["--override", o]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
                self.proc.wait(timeout=20)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        return self.log_path.read_text(errors="replace")


class Quorum:
    """Controllers 1..n (plus brokers added with add_broker), one cluster id."""

    def __init__(self, workdir, n=3, overrides=(), netns_for=None, host="127.0.0.1"):
        self.workdir = workdir
        self.cluster_id = subprocess.run([FJORD, "random-uuid"], capture_output=True, text=True,
                                         check=True).stdout.strip()
        netns_for = netns_for or {}
        addresses = {}
        for i in range(1, n + 1):
            addresses[i] = (netns_for.get(i, (None, host))[1], free_port())
        self.voters = ",".join(f"{i}@{h}:{p}" for i, (h, p) in addresses.items())
        self.addresses = addresses
        self.brokers = {}
        self.controllers = {
            i: Node(workdir, i, "controller", self.voters, self.cluster_id, overrides,
                    netns=netns_for.get(i, (None,))[0], host=h, controller_port=p)
            for i, (h, p) in addresses.items()}

    def only(self, *ids):
        """A --quorum value naming just these controllers."""
        return ",".join(f"{i}@{self.addresses[i][0]}:{self.addresses[i][1]}" for i in ids)

    def start(self):
        for c in self.controllers.values():
            c.start()
        return self

    def add_broker(self, node_id, overrides=()):
        b = Node(self.workdir, node_id, "broker", self.voters, self.cluster_id, overrides)
        self.brokers[node_id] = b
        return b.start()

    def stop(self):
        for n in [*self.brokers.values(), *self.controllers.values()]:
            if n.alive():
                n.kill(signal.SIGCONT)
                n.kill(signal.SIGKILL)

    def tool(self, *args, quorum=None, netns=None, timeout=60):
        cmd = (["ip", "netns", "exec", netns] if netns else []) + [QUORUM_TOOL, "--quorum", quorum or self.voters, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def describe(self, quorum=None, netns=None):
        r = self.tool("describe", "--json", quorum=quorum, netns=netns, timeout=20)
        try:
            return {d["node_id"]: d for d in json.loads(r.stdout)}
        except (ValueError, KeyError):
            return {}

    def leader(self, among=None):
        """The id of a controller that says it leads (and that the others follow), or None."""
        d = self.describe()
        leaders = [i for i, s in d.items() if s.get("role") == "leader" and (among is None or i in among)]
        return leaders[0] if len(leaders) == 1 else None

    def wait_leader(self, timeout=15, among=None):
        return wait_until(lambda: self.leader(among), timeout, "a controller leader")

    def metadata(self, quorum=None):
        r = self.tool("metadata", "--json", quorum=quorum)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def write_configs(self, count, start=0):
        """`count` committed metadata changes, one at a time."""
        for i in range(start, start + count):
            r = self.tool("set-config", f"fjord.test.key={i}")
            assert r.returncode == 0, r.stderr


def describe_quorum(kafka_port):
    """DescribeQuorum v2 sent to a broker by @platformatic/kafka: the metadata partition's
    answer and the voters' endpoints."""
    r = run_platformatic("platformatic_quorum.mjs", f"127.0.0.1:{kafka_port}", timeout=60)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    return out["v2"]["topics"][0]["partitions"][0], out["v2"]["nodes"]


def brokers_in(metadata):
    return {r["register_broker"]["broker_id"]: r["register_broker"]
            for r in metadata["state"]["records"] if "register_broker" in r}


def partitions_in(metadata):
    return [r["partition"] for r in metadata["state"]["records"] if "partition" in r]


@pytest.fixture
def workdir(tmp_path):
    return tmp_path


@pytest.fixture
def netns_link():
    """A network namespace joined to this one by a veth pair: (namespace, host-side
    interface, host address, namespace address). Bringing the interface down cuts the
    namespace off in both directions."""
    tag = os.getpid() % 200 + 20
    ns, host_if, ns_if = f"fjq{tag}", f"fjq{tag}h", f"fjq{tag}n"
    host_ip, ns_ip = f"10.77.{tag}.1", f"10.77.{tag}.2"
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    setup = [["ip", "netns", "add", ns],
             ["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
             ["ip", "link", "set", ns_if, "netns", ns],
             ["ip", "addr", "add", f"{host_ip}/24", "dev", host_if],
             ["ip", "link", "set", host_if, "up"],
             ["ip", "netns", "exec", ns, "ip", "addr", "add", f"{ns_ip}/24", "dev", ns_if],
             ["ip", "netns", "exec", ns, "ip", "link", "set", ns_if, "up"],
             ["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]]
    for cmd in setup:
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            pytest.skip(f"network namespaces unavailable here ({' '.join(cmd)}: {r.stderr.strip()}); needs root")
    yield ns, host_if, host_ip, ns_ip
    subprocess.run(["ip", "link", "del", host_if], capture_output=True)
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)
