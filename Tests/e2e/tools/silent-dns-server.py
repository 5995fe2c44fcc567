"""A name server that never answers: it takes UDP queries and TCP connections on ADDRESS port 53
and prints one line for each (the source, and for UDP the query's id), holding the connections
open without a word. Used by test-dns-upstream.sh as the server a forwarder must give up on.

Usage: silent-dns-server.py ADDRESS
"""
import selectors
import socket
import sys

address = sys.argv[1]
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind((address, 53))
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind((address, 53))
tcp.listen(64)
selector = selectors.DefaultSelector()
selector.register(udp, selectors.EVENT_READ)
selector.register(tcp, selectors.EVENT_READ)
print(f"listening on {address}:53", flush=True)
held = []
while True:
    for key, _ in selector.select():
        if key.fileobj is udp:
            data, source = udp.recvfrom(65535)
            query_id = data[0] << 8 | data[1] if len(data) >= 2 else -1
            print(f"udp from {source[0]}:{source[1]} id {query_id} {len(data)} bytes", flush=True)
        elif len(held) < 256:
            connection, source = tcp.accept()
            held.append(connection)
            print(f"tcp from {source[0]}:{source[1]}", flush=True)
        else:
            connection, _ = tcp.accept()
            connection.close()
