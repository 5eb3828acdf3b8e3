"""Writes the request frames Kafka clients sent in a loopback capture into this directory:
at most four per API key and version (spread over their sizes), 16 KiB at most each,
only versions the broker advertises, named api<key>-v<version>-<sha1 prefix>.bin (the
frame without its 4-byte size). Usage: extract.py CAPTURE.pcap (see README.md)."""
import collections
import hashlib
import pathlib
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
ADVERTISED = {0: 11, 1: 17, 2: 9, 3: 12, 8: 9, 9: 9, 10: 6, 11: 9, 12: 4, 13: 5, 14: 5, 15: 5, 16: 5, 18: 4,
              19: 7, 20: 6, 21: 2, 22: 5, 23: 4, 29: 3, 30: 3, 31: 3, 32: 4, 33: 2, 35: 4, 37: 3, 42: 2,
              44: 1, 47: 0, 55: 2, 60: 1, 61: 0, 75: 0}


def tcp_payloads(path):
    """(connection, sequence number) -> payload, for every IPv4 TCP segment with data."""
    data = pathlib.Path(path).read_bytes()
    link_header = 14 if struct.unpack("<I", data[20:24])[0] == 1 else 16  # Ethernet or Linux cooked
    pos, segments = 24, collections.defaultdict(dict)
    while pos + 16 <= len(data):
        length = struct.unpack("<I", data[pos + 8:pos + 12])[0]
        ip = data[pos + 16 + link_header:pos + 16 + length]
        pos += 16 + length
        if len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        ihl, total = (ip[0] & 15) * 4, struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        payload = tcp[(tcp[12] >> 4) * 4:total - ihl]
        if payload:
            segments[(ip[12:20], sport, dport)].setdefault(seq, payload)
    return segments


def frames(segments):
    for stream in segments.values():
        data, expect = b"", None
        for seq in sorted(stream):
            if expect is not None and seq > expect:
                break  # a gap: the rest of this stream cannot be framed
            data += stream[seq][0 if expect is None else expect - seq:]
            expect = max(expect or 0, seq + len(stream[seq]))
        pos = 0
        while pos + 12 <= len(data):
            size, key, version = struct.unpack(">ihh", data[pos:pos + 8])
            if key not in ADVERTISED or not 0 <= version <= 20 or size < 8 or pos + 4 + size > len(data):
                break  # not a request stream (or its end)
            yield key, version, data[pos + 4:pos + 4 + size]
            pos += 4 + size


def main():
    by_version = collections.defaultdict(dict)
    for key, version, frame in frames(tcp_payloads(sys.argv[1])):
        if version <= ADVERTISED[key] and len(frame) <= 16384:
            by_version[(key, version)][hashlib.sha1(frame).hexdigest()[:12]] = frame
    for (key, version), found in sorted(by_version.items()):
        ranked = sorted(found.items(), key=lambda item: (len(item[1]), item[0]))
        picks = {ranked[i * (len(ranked) - 1) // 3] for i in range(4)} if len(ranked) > 4 else set(ranked)
        for digest, frame in picks:
            (HERE / f"api{key}-v{version}-{digest}.bin").write_bytes(frame)


if __name__ == "__main__":
    main()
