"""A slow HTTP/1.1 client, shared by paced-download.py and paced-clients.py.

`fetch` GETs a path and reads the body at a steady pace: it never runs ahead of
BYTES_PER_SECOND × the time since it connected (by more than one 16 KiB read), and its
receive buffer is small (64 KiB), so the kernel cannot buffer far ahead either. Unlike
`curl --limit-rate`, which may read a burst of megabytes first and then sleep for seconds to
bring its average down, the body grows steadily for as long as the server keeps sending.
"""
import socket
import time


class NoResponseHead(ConnectionError):
    """The connection closed before the response head was complete."""


def fetch(host, port, path, rate, output, keep_alive=False, timeout=60):
    """GETs `path` from host:port, writing the body to the file `output` unbuffered as it
    arrives, at `rate` bytes per second. With `keep_alive` the request asks to keep the
    connection (as curl does: the server leaves it ESTABLISHED and the client closes it after
    the body); otherwise it sends `Connection: close`. `timeout` bounds each socket call (seconds). Returns (status, body bytes received,
    Content-Length)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
        connection = "" if keep_alive else "Connection: close\r\n"
        name = f"[{host}]" if ":" in host else host
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {name}\r\n{connection}\r\n".encode())
        start = time.monotonic()
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise NoResponseHead("connection closed before the response head")
            head += chunk
        head, body = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
        received = len(body)
        with open(output, "wb", buffering=0) as out:
            out.write(body)
            while received < length:
                ahead = received - rate * (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(min(ahead / rate, 0.05))
                    continue
                chunk = sock.recv(min(16384, length - received))
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
        return status, received, length
    finally:
        sock.close()
