"""Listening ports for test processes.

A port is picked below the kernel's ephemeral range (net.ipv4.ip_local_port_range),
where the kernel never picks a connection's local port. A node killed and started
again listens on the same ports; picked from the ephemeral range, such a port could
meanwhile be the local end of some connection (a client reconnecting to that very
node), and the restart would fail with "Address already in use".

A port is handed out once per test process. Else one node's three ports (client,
controller, admin) could be the same one, or a stopped node's port could go to another
node before the first starts again: about 1 in 7,000 per node started, often enough
over a suite that starts hundreds."""
import random
import socket

_LOWEST = 10000
_handed_out = set()


def _ephemeral_start():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host="127.0.0.1"):
    start = _ephemeral_start()
    for _ in range(200):
        port = random.randrange(_LOWEST, start) if start > _LOWEST + 1000 else 0
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            port = s.getsockname()[1]
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port on {host} below {start}")
