#!/usr/bin/env python3
"""arg_client.py - the textbook echo client, in Python: sends one word, prints its echo.

Usage: arg_client.py HOST WORD PORT

It connects with a 5 s timeout on every operation, sends WORD with
sendall, loops on recv until len(WORD) bytes have come back, prints
"Received: WORD" and exits 0. A server that closes before the whole echo
is back, resets, or stays silent for 5 s ends it with a message on stderr
and exit status 1. Bad usage: exit status 2.
"""
import socket
import sys


def main():
    if len(sys.argv) != 4:
        print("usage: arg_client.py HOST WORD PORT", file=sys.stderr)
        return 2
    host, word, port = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(word)
            got = b""
            while len(got) < len(word):
                chunk = s.recv(4096)
                if not chunk:
                    print(f"client: the server closed after {len(got)} of {len(word)} bytes", file=sys.stderr)
                    return 1
                got += chunk
    except OSError as e:
        print(f"client: {e}", file=sys.stderr)
        return 1
    print("Received:", got.decode(errors="replace"))
    return 0


sys.exit(main())
