#!/usr/bin/env python3
"""Kafka readiness probe using only the Python standard library.

Asks the broker for ApiVersions, then sends a Metadata request (a non-flexible version
between 4 and 8) and succeeds only when the answer names at least one broker and a
controller. Exit 0 = ready, 1 = not ready. Usage: probe.py HOST:PORT [--quiet]
"""
import socket
import struct
import sys


def _request(sock, api_key, version, corr, body=b""):
    client_id = b"bench-probe"
    header = struct.pack(">hhih", api_key, version, corr, len(client_id)) + client_id
    msg = header + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", _read(sock, 4))[0]
    resp = _read(sock, size)
    got_corr = struct.unpack(">i", resp[:4])[0]
    if got_corr != corr:
        raise RuntimeError("correlation id mismatch")
    return resp[4:]


def _read(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    return buf


def probe(host, port, timeout=3.0):
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        # ApiVersions v0: error_code int16, [api_key int16, min int16, max int16]
        r = _request(s, 18, 0, 1)
        err, n = struct.unpack(">hi", r[:6])
        if err != 0:
            raise RuntimeError(f"ApiVersions error {err}")
        versions = {}
        off = 6
        for _ in range(n):
            k, lo, hi = struct.unpack(">hhh", r[off:off + 6])
            versions[k] = (lo, hi)
            off += 6
        lo, hi = versions.get(3, (0, 0))
        v = max(lo, 4)
        if v > min(hi, 8):
            raise RuntimeError(f"no usable Metadata version (broker offers {lo}-{hi})")
        v = min(hi, 8)
        # Metadata v4-v8 request: topics (nullable array: -1 = all), allow_auto_topic_creation
        body = struct.pack(">ib", -1, 0)
        if v >= 8:
            body += struct.pack(">bb", 0, 0)
        r = _request(s, 3, v, 2, body)
        off = 4  # throttle_time_ms (v3+)
        nbrokers = struct.unpack(">i", r[off:off + 4])[0]
        off += 4
        brokers = []
        for _ in range(nbrokers):
            node_id = struct.unpack(">i", r[off:off + 4])[0]
            off += 4
            hl = struct.unpack(">h", r[off:off + 2])[0]
            off += 2
            bhost = r[off:off + hl].decode()
            off += hl
            bport = struct.unpack(">i", r[off:off + 4])[0]
            off += 4
            rl = struct.unpack(">h", r[off:off + 2])[0]
            off += 2 + max(rl, 0)
            brokers.append((node_id, bhost, bport))
        cl = struct.unpack(">h", r[off:off + 2])[0]
        off += 2
        cluster_id = r[off:off + cl].decode() if cl >= 0 else None
        off += max(cl, 0)
        controller = struct.unpack(">i", r[off:off + 4])[0]
        if not brokers or controller < 0:
            raise RuntimeError(f"metadata not ready: brokers={brokers} controller={controller}")
        return brokers, cluster_id, controller


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    host, _, port = sys.argv[1].rpartition(":")
    try:
        brokers, cluster_id, controller = probe(host or "127.0.0.1", int(port))
    except Exception as e:  # noqa: BLE001 - any failure means "not ready"
        if "--quiet" not in sys.argv:
            print(f"not ready: {e}", file=sys.stderr)
        return 1
    if "--quiet" not in sys.argv:
        print(f"ready: cluster={cluster_id} controller={controller} brokers={brokers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
