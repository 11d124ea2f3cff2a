# SPDX-License-Identifier: BSD-2-Clause
"""How connections end: a worker closes at once only when the peer has
nothing more in flight, and lingers (FIN, then drops input until the
peer's FIN) when it may, since closing with unread input sends RST and
the peer can lose the answer it has not read.  Each case runs on an HTTP
listener with and without defer_accept (a deferred connection is served
right after accept): a client that pipelines a second request after
"Connection: close" and reads late gets the first answer whole; one that
sends more once the answer arrives gets it whole too; a client that
half-closes after its request, one that simply reads, and one whose
request comes in parts or late get the whole answer and a clean end of
stream.  The info handler, which writes on
accept, gives its line whole also to a client that sent something."""
import sys
sys.dont_write_bytecode = True

import socket
import time

from affinityd_test import Daemon, check, free_port, has_data, listener, \
    parse_info, require_cpus, say

# Large enough that the answer is still in the daemon's send queue while
# the client below does not read: a reset would discard it there.
BODY_LEN = 200000
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
CLOSE = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
# How long a client waits before it reads: time for the daemon to close.
LATE = 0.3


def client(port, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def read_all(s):
    """Everything until the end of stream; whether it ended with a reset."""
    data = bytearray()
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return bytes(data), False
            data += chunk
    except ConnectionResetError:
        return bytes(data), True


def answers_in(data):
    """The number of whole answers at the start of data, and what is left."""
    n = 0
    while True:
        i = data.find(b"\r\n\r\n")
        if i < 0 or len(data) < i + 4 + BODY_LEN:
            return n, data
        check(data.startswith(b"HTTP/1.1 200 OK\r\n"),
              f"answer {n} starts {data[:40]!r}")
        data = data[i + 4 + BODY_LEN:]
        n += 1


def expect_one(what, data, reset, clean=True):
    n, rest = answers_in(data)
    say(f"{what}: {len(data)} bytes, {n} whole answer(s), "
        f"{'reset' if reset else 'end of stream'}")
    check(n == 1 and rest == b"", f"{what}: got {n} whole answers and "
          f"{len(rest)} bytes more ({len(data)} in all)")
    check(not clean or not reset, f"{what}: the answer ended with a reset")


def pipelined_after_close(port, tag):
    """A second request in the same segment as one that asks to close:
    the daemon answers the first, does not read the second, and must not
    reset the connection before the client, reading late, has it all."""
    s = client(port, rcvbuf=4096)
    s.sendall(CLOSE + REQUEST)
    time.sleep(LATE)
    data, reset = read_all(s)
    s.close()
    expect_one(f"{tag}: pipelined after close", data, reset, clean=False)


def more_after_answer(port, tag):
    """The client sends a second request once the first answer begins to
    arrive, when the daemon may have closed already, then reads late."""
    s = client(port, rcvbuf=4096)
    s.sendall(CLOSE)
    check(has_data(s, 10), f"{tag}: more after answer: no answer")
    try:
        s.sendall(REQUEST)
    except OSError:
        pass
    time.sleep(LATE)
    data, reset = read_all(s)
    s.close()
    expect_one(f"{tag}: more after the answer", data, reset, clean=False)


def half_close(port, tag):
    """A keep-alive request and then FIN: one answer, then the end."""
    s = client(port)
    s.sendall(REQUEST)
    s.shutdown(socket.SHUT_WR)
    data, reset = read_all(s)
    s.close()
    expect_one(f"{tag}: half-closed client", data, reset)


def plain_close(port, tag):
    """Connection: close, read at once: the whole answer, then FIN."""
    s = client(port)
    s.sendall(CLOSE)
    data, reset = read_all(s)
    s.close()
    expect_one(f"{tag}: Connection: close", data, reset)


def split_request(port, tag, pause):
    """The request comes in two parts PAUSE apart, after connecting: the
    first read finds half a request or nothing (with defer_accept the
    kernel queues the connection after its first data, or after a second
    without any), and the connection waits for the rest."""
    s = client(port)
    half = len(CLOSE) // 2
    if pause > 0.5:
        time.sleep(pause)
    s.sendall(CLOSE[:half])
    time.sleep(min(pause, 0.5))
    s.sendall(CLOSE[half:])
    data, reset = read_all(s)
    s.close()
    expect_one(f"{tag}: request split {pause} s apart", data, reset)


def info(port):
    """The line written on accept arrives whole, also to a client that
    sent bytes the handler never reads."""
    for payload in (b"", b"x\n" * 100):
        s = client(port)
        if payload:
            s.sendall(payload)
        data, reset = read_all(s)
        s.close()
        kv = parse_info(data)
        say(f"info (sent {len(payload)} bytes): {data!r}, "
            f"{'reset' if reset else 'end of stream'}")
        check(data.endswith(b"\n") and "worker" in kv,
              f"info: got {data!r}")


def main():
    require_cpus(0, 1)
    http, deferred, inf = free_port(), free_port(), free_port()
    d = Daemon([listener("info", "tcp", inf, "info"),
                listener("http", "tcp", http, "http"),
                listener("deferred", "tcp", deferred, "http")])
    body = f'http = {{ body = "{"x" * (BODY_LEN - 1)}\\n"; }};'
    text = d.config_text(d.listeners).replace(
        'handler = "http"; }', f'handler = "http"; {body} }}', 1).replace(
        'handler = "http"; }', f'handler = "http"; {body} '
        f'defer_accept = true; }}', 1)
    d.write_config(d.listeners, text)
    d.listeners = d.listeners[:1]
    d.start().wait_ready()
    try:
        for port, tag in ((http, "http"), (deferred, "http deferred")):
            for case in (pipelined_after_close, more_after_answer,
                         half_close, plain_close):
                for _ in range(3):
                    case(port, tag)
            for pause in (0.2, 1.5):
                split_request(port, tag, pause)
        info(inf)
    finally:
        d.kill()


if __name__ == "__main__":
    main()
