"""Listening ports for test processes.

A port is picked below the kernel's ephemeral range (net.ipv4.ip_local_port_range),
where the kernel never picks a connection's local port. A node killed and started
again listens on the same ports; picked from the ephemeral range, such a port could
meanwhile be the local end of some connection (a client reconnecting to that very
node), and the restart would fail with "Address already in use"."""
import random
import socket

_LOWEST = 10000


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
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port on {host} below {start}")
