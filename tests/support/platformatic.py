"""Running the Node client scripts in tests/clients (@platformatic/kafka), shared by the
broker and controller suites."""
import pathlib
import subprocess

import pytest

CLIENTS_DIR = str(pathlib.Path(__file__).resolve().parents[1] / "clients")


def node_major():
    """Node's major version, 0 when node is missing."""
    try:
        r = subprocess.run(["node", "-p", "process.versions.node.split('.')[0]"], capture_output=True, timeout=10)
        return int(r.stdout.decode().strip() or 0)
    except (OSError, ValueError):
        return 0


def run_platformatic(script, *args, timeout=120):
    """Runs tests/clients/<script> with @platformatic/kafka (Node 22's API, shimmed on
    Node 20) and returns the CompletedProcess. Skips the test on an older Node."""
    if node_major() < 20:
        pytest.skip("@platformatic/kafka needs Node >= 20")
    return subprocess.run(["node", "--import", f"{CLIENTS_DIR}/node-shims.mjs", f"{CLIENTS_DIR}/{script}", *args],
                          capture_output=True, timeout=timeout, cwd=CLIENTS_DIR)
