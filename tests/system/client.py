# SPDX-License-Identifier: BSD-2-Clause
"""Clients of the system test, run in the container's network namespace.

The container has no python; the test runs this file with the host's python
under "nsenter -t LEADER -n", so it talks to the daemon over the
container's own loopback.  Every command prints one JSON object on its last
line and exits 0 when the exchange went as expected, 1 otherwise.

  info PORT CPU [SRC]   TCP to the info handler from a client pinned to CPU,
                        optionally bound to the source address SRC
  echo PORT CPU         one TCP and one UDP echo exchange, pinned to CPU
  http PORT             GET / from the http handler
  loop PORT CPU         TCP echo exchanges, one connection each, until
                        standard input closes; prints {"ready": true}
                        first, then the counts on each SIGUSR1
"""
import json
import os
import signal
import socket
import sys

TIMEOUT = 3.0


def out(obj, ok=True):
    print(json.dumps(obj), flush=True)
    sys.exit(0 if ok else 1)


def pin(cpu):
    os.sched_setaffinity(0, {int(cpu)})


def read_reply(s, done):
    """What S receives until done(data) or the peer closes."""
    data = b""
    while not done(data):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def info(port, cpu, src=None):
    pin(cpu)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT if src is None else 1.5)
    try:
        if src:
            s.bind((src, 0))
        s.connect(("127.0.0.1", int(port)))
        line = read_reply(s, lambda d: d.endswith(b"\n"))
    except OSError as e:
        out({"error": f"{type(e).__name__}: {e}"}, ok=False)
    finally:
        s.close()
    fields = dict(kv.split("=", 1) for kv in line.decode().split() if "=" in kv)
    out({"line": line.decode().strip(), "fields": fields}, ok=bool(fields))


def echo_tcp(port, payload):
    with socket.create_connection(("127.0.0.1", int(port)),
                                  timeout=TIMEOUT) as s:
        s.sendall(payload)
        return read_reply(s, lambda d: len(d) >= len(payload)) == payload


def echo(port, cpu):
    pin(cpu)
    payload = f"affinityd system test {os.getpid()}\n".encode()
    try:
        tcp = echo_tcp(port, payload)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(1.0)
        udp = False
        for _ in range(3):
            u.sendto(payload, ("127.0.0.1", int(port)))
            try:
                udp = u.recvfrom(2048)[0] == payload
                break
            except socket.timeout:
                continue
        u.close()
    except OSError as e:
        out({"error": f"{type(e).__name__}: {e}"}, ok=False)
    out({"tcp": tcp, "udp": udp}, ok=tcp and udp)


def http(port):
    try:
        with socket.create_connection(("127.0.0.1", int(port)),
                                      timeout=TIMEOUT) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n"
                      b"Connection: close\r\n\r\n")
            data = read_reply(s, lambda d: False)
    except OSError as e:
        out({"error": f"{type(e).__name__}: {e}"}, ok=False)
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    out({"status": status, "body": body.decode(errors="replace")},
        ok=" 200 " in status + " ")


def loop(port, cpu):
    pin(cpu)
    counts = {"ok": 0, "failed": 0, "first_error": ""}

    def report(*_):
        print(json.dumps(counts), flush=True)

    signal.signal(signal.SIGUSR1, report)
    print(json.dumps({"ready": True}), flush=True)
    os.set_blocking(0, False)
    n = 0
    while True:
        try:
            if os.read(0, 1) == b"":
                break
        except BlockingIOError:
            pass
        n += 1
        payload = f"{os.getpid()} {n}\n".encode()
        try:
            good = echo_tcp(port, payload)
            err = "" if good else "short or wrong echo"
        except OSError as e:
            good, err = False, f"{type(e).__name__}: {e}"
        if good:
            counts["ok"] += 1
        else:
            counts["failed"] += 1
            counts["first_error"] = counts["first_error"] or err
    out(counts, ok=counts["failed"] == 0)


def main(argv):
    cmd, args = argv[1], argv[2:]
    {"info": info, "echo": echo, "http": http, "loop": loop}[cmd](*args)


if __name__ == "__main__":
    main(sys.argv)
