"""Slow clients for the hardening reproduction (issue 20), on 127.0.0.1.

usage: slow_clients.py PORT N SECONDS
Opens N connections that each send the headers of a POST with
Content-Length 4000000, then one byte every 2 seconds, for SECONDS; every
second it times GET /health on a fresh connection and prints the worst
time seen and how many slow connections the server has closed.
"""
import socket
import sys
import time

port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
hdr = (b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
       b"Content-Length: 4000000\r\n\r\n{")
conns = []
for _ in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(hdr)
        s.setblocking(False)
        conns.append(s)
    except OSError:
        pass
print("opened", len(conns), flush=True)
worst, fails, closed = 0.0, 0, 0
end = time.time() + seconds
last_drip = 0.0
while time.time() < end:
    if time.time() - last_drip > 2:
        last_drip = time.time()
        for s in list(conns):
            try:
                s.send(b" ")
            except OSError:
                conns.remove(s)
                closed += 1
    t0 = time.time()
    try:
        h = socket.create_connection(("127.0.0.1", port), timeout=10)
        h.settimeout(10)
        h.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = h.recv(100)
        h.close()
        if not data.startswith(b"HTTP/1.1 200"):
            fails += 1
    except OSError:
        fails += 1
    worst = max(worst, time.time() - t0)
    time.sleep(1)
print("health: worst %.2fs, failures %d; slow connections closed by the server: %d of %d" % (worst, fails, closed, len(conns) + closed), flush=True)
