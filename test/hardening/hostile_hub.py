"""A hostile Hub for the hardening reproductions (issue 20), on 127.0.0.1.

Modes (first argument):
  longpath  - the tree listing has 20 pages, each one file whose path is 60 MB
  redirect  - every request redirects to itself
Prints the port it listens on, then serves until killed.
"""
import http.server
import sys

MODE = sys.argv[1]
BIG = b"a" * (60 << 20)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if MODE == "redirect":
            self.send_response(302)
            self.send_header("Location", self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if "/revision/" in self.path:
            body = b'{"sha":"0123456789abcdef0123456789abcdef01234567","siblings":[]}'
        elif "/tree/" in self.path:
            page = int(self.path.rsplit("page=", 1)[1]) if "page=" in self.path else 0
            body = b'[{"type":"file","path":"' + BIG + b'","size":1,"oid":"0123456789abcdef0123456789abcdef01234567"}]'
            if page + 1 < 20:
                self.send_response(200)
                self.send_header("Link", '</api/models/o/r/tree/main?recursive=true&page=%d>; rel="next"' % (page + 1))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        else:
            body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
