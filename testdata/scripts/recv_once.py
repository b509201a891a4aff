#!/usr/bin/env python3
"""recv_once.py - FAULTY: the Python echo client as tutorials write it.

Usage: recv_once.py HOST WORD PORT

FAULT: it calls recv(1024) once and prints whatever came back, as if one
send on one side were one recv on the other, and it sets no timeout. An
echo that arrives in pieces is printed cut short, a server that closes
early is taken for an empty echo (exit 0), and a silent server is waited
for for ever. Caught by client/short-reads, client/resplit-echo,
client/close-at-once and client/close-half; client/gives-up warns.
"""
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect((sys.argv[1], int(sys.argv[3])))
s.send(sys.argv[2].encode())
data = s.recv(1024)
print("Received:", data.decode())
s.close()
