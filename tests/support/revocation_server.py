#!/usr/bin/env python3
"""hozon's test revocation server for a make_pki.sh PKI: CRLs and OCSP on loopback.

usage: revocation_server.py --pki DIR [--port N|0] [--lifetime S]

GET /crl/root.crl and /crl/inter.crl -> the DER CRLs in DIR.
POST /ocsp (application/ocsp-request) -> `openssl ocsp` answer from DIR/ca-inter/index.txt,
signed by ocsp.pem/ocsp.key (certificates issued by the intermediate only).
With --port 0 a free port is chosen and printed as "PORT <n>" on stdout. The server exits when
its stdin closes (the test process ended) or after --lifetime seconds.
"""
import argparse, os, subprocess, sys, tempfile, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        pki = self.server.pki
        name = self.path.split("?")[0]
        if name in ("/crl/root.crl", "/crl/inter.crl"):
            with open(os.path.join(pki, os.path.basename(name)), "rb") as f:
                return self.send(200, "application/pkix-crl", f.read())
        self.send(404, "text/plain", b"not found\n")

    def do_POST(self):
        pki = self.server.pki
        n = int(self.headers.get("Content-Length", "-1"))
        if not (0 <= n <= 65536) or self.path.split("?")[0] != "/ocsp":
            return self.send(400, "text/plain", b"bad request\n")
        body = self.rfile.read(n)
        with tempfile.TemporaryDirectory() as work:
            req, resp = os.path.join(work, "req.der"), os.path.join(work, "resp.der")
            with open(req, "wb") as f:
                f.write(body)
            p = subprocess.run(
                ["openssl", "ocsp", "-index", "ca-inter/index.txt", "-CA", "inter.pem", "-rsigner", "ocsp.pem",
                 "-rkey", "ocsp.key", "-reqin", req, "-respout", resp, "-ndays", "1"],
                cwd=pki, capture_output=True, timeout=30)
            if p.returncode != 0 or not os.path.exists(resp):
                return self.send(500, "text/plain", p.stderr)
            with open(resp, "rb") as f:
                self.send(200, "application/ocsp-response", f.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pki", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.pki = os.path.abspath(a.pki)
    print("PORT %d" % srv.server_address[1], flush=True)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(1):
                pass
        except Exception:
            pass
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Timer(a.lifetime, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
