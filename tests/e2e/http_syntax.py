# SPDX-License-Identifier: BSD-2-Clause
"""A request head that breaks the syntax RFC 9112 sets, which http-parser
lets through, gets one 400 and the connection closes: whitespace before a
colon (Transfer-Encoding and Content-Length, whose framing it hid), a space
inside a field name, an obs-folded Transfer-Encoding, chunked in HTTP/1.0,
bare LF line endings, and the same in a chunked body's trailer
section, or a chunk's line or data not ended by CRLF.  Each was answered, then the request after it on the
same connection was answered too, the two ends framing the bytes
differently.  Sent whole or a byte at a time, each now gets exactly one
answer, a 400, and the second request none; well-formed neighbours of each
case (a body by Content-Length or chunks, HTTP/1.0 keep-alive with a
Content-Length, a field value with inner spaces) keep both answers."""
import sys
sys.dont_write_bytecode = True

import re
import socket

from affinityd_test import Daemon, check, free_port, listener, say

HOST = "127.0.0.1"
IO_TIMEOUT = 10.0
SECOND = b"GET /second HTTP/1.1\r\nHost: t\r\n\r\n"
CHUNKED = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"

BAD = {
    "whitespace before the colon of Transfer-Encoding":
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n"
        b"\r\n0\r\n\r\n",
    "whitespace before the colon of Content-Length":
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length : 5\r\n\r\nhello",
    "a tab before the colon":
        b"GET / HTTP/1.1\r\nHost\t: t\r\n\r\n",
    "a space inside a field name":
        b"GET / HTTP/1.1\r\nHost: t\r\nX Forwarded: a\r\n\r\n",
    "an obs-folded Transfer-Encoding":
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:\r\n chunked\r\n"
        b"\r\n0\r\n\r\n",
    "an obs-folded field":
        b"GET / HTTP/1.1\r\nHost: t\r\nX-A: b\r\n\tc\r\n\r\n",
    "chunked in HTTP/1.0":
        b"POST / HTTP/1.0\r\nConnection: keep-alive\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bare LF line endings":
        b"GET / HTTP/1.1\nHost: t\n\n",
    "a bare LF ending the head":
        b"GET / HTTP/1.1\r\nHost: t\r\n\n",
    "an obs-folded trailer field":
        CHUNKED + b"0\r\nX-T: a\r\n b\r\n\r\n",
    "whitespace before a trailer field's colon":
        CHUNKED + b"0\r\nX-T : a\r\n\r\n",
    "a space inside a trailer field name":
        CHUNKED + b"0\r\nX T: a\r\n\r\n",
    "a bare LF ending a trailer field":
        CHUNKED + b"0\r\nX-T: a\n\r\n",
    "a bare LF ending an empty trailer section":
        CHUNKED + b"5\r\nhello\r\n0\r\n\n",
    "two bytes other than CRLF after a chunk's data":
        CHUNKED + b"5\r\nhelloXX0\r\n\r\n",
    "a CR not followed by LF after a chunk's data":
        CHUNKED + b"5\r\nhello\rX0\r\n\r\n",
    "a CR not followed by LF ending a chunk's size":
        CHUNKED + b"5\rXhello\r\n0\r\n\r\n",
    "a CR not followed by LF ending the last chunk's line":
        CHUNKED + b"0\rX\r\n",
    "chunked applied twice, on two Transfer-Encoding lines":
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "Transfer-Encoding in the trailer section":
        CHUNKED + b"0\r\nTransfer-Encoding: chunked\r\n\r\n",
}

GOOD = {
    "a Content-Length body":
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
    "a chunked body":
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n",
    "HTTP/1.0 keep-alive with a Content-Length":
        b"POST / HTTP/1.0\r\nConnection: keep-alive\r\n"
        b"Content-Length: 2\r\n\r\nhi",
    "chunks with extensions, split anywhere":
        CHUNKED + b"3;a=b\r\nabc\r\n10\r\n0123456789abcdef\r\n0;x\r\n\r\n",
    "a chunked body with a trailer field":
        CHUNKED + b"5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-B: c d\r\n\r\n",
    "a value with inner spaces and no space after the colon":
        b"GET / HTTP/1.1\r\nHost:t\r\nUser-Agent: a b  c\r\n\r\n",
}


def exchange(port, data, bytewise):
    """All that the server answers to DATA before it closes, or within
    IO_TIMEOUT of silence."""
    s = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        if bytewise:
            for i in range(len(data)):
                s.sendall(data[i:i + 1])
        else:
            s.sendall(data)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return got, False
            except ConnectionResetError:
                return got, True
            if not chunk:
                return got, True
            got += chunk
            if len(statuses(got)) > 3:
                return got, False	# no need to wait for more
    finally:
        s.close()


def statuses(answer):
    """The status codes of the answers in ANSWER (the body is "ok\\n")."""
    return [m.decode() for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]


def main():
    port = free_port()
    d = Daemon([listener("http", "tcp", port, "http")])
    d.listeners = []	# http does not speak first: ready workers will do
    d.start().wait_ready()
    faults = []
    for bytewise in (False, True):
        how = "a byte at a time" if bytewise else "whole"
        for name, req in BAD.items():
            answer, closed = exchange(port, req + SECOND, bytewise)
            got = statuses(answer)
            say(f"{name}, {how}: {got}, "
                f"{'closed' if closed else 'left open'}")
            if got != ["400"] or not closed:
                faults.append(f"{name}, {how}: answered {got}, "
                              f"{'closed' if closed else 'left open'}")
        for name, req in GOOD.items():
            answer, _ = exchange(port, req + SECOND + b"GET / HTTP/1.1\r\n"
                                 b"Host: t\r\nConnection: close\r\n\r\n",
                                 bytewise)
            got = statuses(answer)
            say(f"{name}, {how}: {got}")
            if got != ["200", "200", "200"]:
                faults.append(f"{name}, {how}: answered {got}, not three "
                              f"200s")
    check(not faults, "\n".join(faults))
    check(d.stop() == 0, "the daemon did not stop cleanly")
    d.kill()
    say("PASS")


if __name__ == "__main__":
    main()
