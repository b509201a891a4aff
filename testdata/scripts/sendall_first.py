#!/usr/bin/env python3
"""sendall_first.py - FAULTY: a Python stream client that sends everything before it reads.

Usage: sendall_first.py HOST PORT

FAULT: it reads all of stdin, sends it with sendall, half-closes, and only
then reads the echo to stdout. Small inputs pass; a large one fills both
sides' socket buffers while nobody reads the echo, and sendall blocks: a
deadlock. Caught by client/large-stream. Its 30 s timeout, chosen so that
it would not cut a large stream short, is also too long for a silent
server: client/gives-up warns.
"""
import socket
import sys


def main():
    data = sys.stdin.buffer.read()
    try:
        with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30) as s:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            got = 0
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                sys.stdout.buffer.write(chunk)
                got += len(chunk)
    except OSError as e:
        print(f"client: {e}", file=sys.stderr)
        return 1
    if got < len(data):
        print(f"client: the server closed after {got} of {len(data)} bytes", file=sys.stderr)
        return 1
    return 0


sys.exit(main())
