#!/usr/bin/env python3
"""hozon's test TSA: `openssl ts -reply` behind a tiny loopback HTTP server, with faults.

usage: tsa_server.py --pki DIR [--port N|0] [--fault MODE] [--log-requests FILE]
                     [--retry-after S] [--lifetime S]

DIR holds tsa.pem, tsa.key (unencrypted) and inter.pem (issuer certificates put in tokens).
POST / or /tsa (application/timestamp-query) -> application/timestamp-reply. GET /health -> ok.
GET /crl/NAME.crl serves DIR/NAME.crl and POST /ocsp answers OCSP (`openssl ocsp` over the
intermediate's index) for the test PKI, so peers can check revocation on line.
With --port 0 a free port is chosen and printed as "PORT <n>" on stdout.
The server exits when its stdin closes (the test process ended) or after --lifetime seconds.

Faults (--fault MODE for every request, or ?fault=MODE on one request's URL, which wins):
  timeout            read the request, never answer (until the client hangs up)
  reset              read the request, then abort the connection (TCP RST)
  http500            500 Internal Server Error
  http503            503 with Retry-After (--retry-after, default 1)
  http429            429 Too Many Requests with Retry-After
  garbage            200, reply content type, 512 random bytes
  wrong-content-type the normal reply as text/html
  rejection          TimeStampResp status rejection, "bad request", failInfo badRequest
  waiting            TimeStampResp status waiting
  wrong-nonce        token for the query with nonce + 1
  wrong-imprint      token for the query with the complemented hash
  no-nonce           token for the query without nonce
  huge-body          200 without Content-Length, 200 MiB until the client hangs up
  slow-drip          the whole normal response, one byte every 0.5 s
  truncated          announces the full Content-Length, sends half, closes
  flaky-N            the first N requests per message imprint get a plain 503
  untrusted-tsa      token signed by a TSA certificate under a throwaway self-signed root
  no-eku             token re-signed (openssl cms -cades) by a certificate without EKU
--log-requests FILE appends one JSON line per request: time, path, fault, status, outcome.
Needs the openssl CLI; asn1crypto for wrong-nonce, wrong-imprint, no-nonce and no-eku.
"""
import argparse, json, os, re, socket, struct, subprocess, sys, tempfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY = "application/timestamp-reply"
TST_INFO_OID = "1.2.840.113549.1.9.16.1.4"
TSA_CNF = """[ tsa ]
default_tsa = t
[ t ]
serial = $ENV::TSA_SERIAL
crypto_device = builtin
signer_cert = $ENV::TSA_CERT
signer_key = $ENV::TSA_KEY
certs = $ENV::TSA_CHAIN
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1.1
other_policies = 1.3.6.1.4.1.99999.1.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def openssl(args, env=None):
    p = subprocess.run(["openssl"] + args, capture_output=True, env=env, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (args[0], p.stderr.decode(errors="replace")[-300:]))
    return p.stdout


def der(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(b)]) + b + content


def status_only(status, text=None, fail_bit=None):
    body = der(0x02, bytes([status]))
    if text:
        body += der(0x30, der(0x0C, text.encode()))
    if fail_bit is not None:
        nbytes = fail_bit // 8 + 1
        bits = bytearray(nbytes)
        bits[fail_bit // 8] = 0x80 >> (fail_bit % 8)
        body += der(0x03, bytes([7 - fail_bit % 8]) + bytes(bits))
    return der(0x30, der(0x30, body))


class State:
    def __init__(self, pki, fault, log, retry_after):
        self.pki, self.fault, self.retry_after = os.path.abspath(pki), fault, retry_after
        self.tmp = tempfile.mkdtemp(prefix="hozon-tsa-")
        self.cnf = os.path.join(self.tmp, "tsa.cnf")
        with open(self.cnf, "w") as f:
            f.write(TSA_CNF)
        self.lock = threading.Lock()
        self.serial = int(time.time()) << 16
        self.flaky = {}
        self.log = open(log, "a") if log else None
        self._fault_certs = None

    def next_serial(self):
        with self.lock:
            self.serial += 1
            return self.serial

    def fault_certs(self):
        """Throwaway root, a TSA under it (untrusted-tsa) and a no-EKU signer (no-eku)."""
        with self.lock:
            if self._fault_certs:
                return self._fault_certs
            d = lambda n: os.path.join(self.tmp, n)  # noqa: E731
            ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
            openssl(["req", "-x509", *ec, "-keyout", d("root.key"), "-out", d("root.pem"), "-days", "30",
                     "-subj", "/CN=Throwaway Test Root", "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            for name, eku in (("untrusted", "extendedKeyUsage=critical,timeStamping\n"), ("noeku", "")):
                openssl(["req", "-new", *ec, "-keyout", d(name + ".key"), "-out", d(name + ".csr"),
                         "-subj", "/CN=Test TSA %s" % name])
                with open(d(name + ".ext"), "w") as f:
                    f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n" + eku)
                openssl(["x509", "-req", "-in", d(name + ".csr"), "-CA", d("root.pem"), "-CAkey", d("root.key"),
                         "-CAcreateserial", "-days", "30", "-extfile", d(name + ".ext"), "-out", d(name + ".pem")])
            self._fault_certs = d
            return d

    def write_log(self, rec):
        if self.log:
            with self.lock:
                self.log.write(json.dumps(rec) + "\n")
                self.log.flush()


def alter_query(body, mode):
    from asn1crypto import tsp
    req = tsp.TimeStampReq.load(body)
    if mode == "wrong-nonce":
        req["nonce"] = (req["nonce"].native or 0) + 1
    elif mode == "no-nonce":
        req["nonce"] = None
    elif mode == "wrong-imprint":
        h = req["message_imprint"]["hashed_message"].native
        req["message_imprint"]["hashed_message"] = bytes(b ^ 0xFF for b in h)
    return req.dump(force=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_response(self, code, message=None):
        self.rec["status"] = code
        super().send_response(code, message)

    def send(self, code, ctype, body, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.rec = {"path": self.path, "fault": "none", "status": None, "outcome": "sent"}
        if self.path.startswith("/health"):
            return self.send(200, "text/plain", b"ok\n")
        m = re.fullmatch(r"/crl/([A-Za-z0-9_.-]+\.crl)", self.path)
        if m and os.path.isfile(os.path.join(self.server.state.pki, m.group(1))):
            with open(os.path.join(self.server.state.pki, m.group(1)), "rb") as f:
                return self.send(200, "application/pkix-crl", f.read())
        self.send(404, "text/plain", b"not found\n")

    def do_POST(self):
        st = self.server.state
        self.rec = {"time": time.time(), "path": self.path, "fault": "none", "status": None, "outcome": "sent"}
        try:
            n = int(self.headers.get("Content-Length", "-1"))
            body = self.rfile.read(n) if 0 <= n <= 65536 else None
            path, _, query = self.path.partition("?")
            q = dict(p.partition("=")[::2] for p in query.split("&") if p)
            fault = q.get("fault", st.fault)
            self.rec["fault"] = fault
            if body is None:
                return self.send(413, "text/plain", b"body\n")
            if path == "/ocsp":
                return self.ocsp(body)
            if path not in ("/", "/tsa"):
                return self.send(404, "text/plain", b"not found\n")
            self.fault(fault, body)
        except (BrokenPipeError, ConnectionResetError):
            self.rec["outcome"] = "client-gone"
            self.close_connection = True
        except Exception as e:  # never let a fault kill the server
            sys.stderr.write("tsa_server: %r\n" % e)
            self.rec["outcome"] = "error"
            if self.rec["status"] is None:
                self.send(500, "text/plain", str(e).encode())
        finally:
            st.write_log(self.rec)

    def ocsp(self, body):
        """OCSP for certificates the intermediate issued: `openssl ocsp` as the responder."""
        st = self.server.state
        p = lambda n: os.path.join(st.pki, n)  # noqa: E731
        with tempfile.TemporaryDirectory() as d:
            req, resp = os.path.join(d, "req.der"), os.path.join(d, "resp.der")
            with open(req, "wb") as f:
                f.write(body)
            r = subprocess.run(["openssl", "ocsp", "-index", p("ca-inter/index.txt"), "-rsigner", p("ocsp.pem"),
                                "-rkey", p("ocsp.key"), "-CA", p("inter.pem"), "-reqin", req, "-respout", resp,
                                "-ndays", "7"], capture_output=True, timeout=30)
            if r.returncode != 0 or not os.path.exists(resp):
                return self.send(500, "text/plain", r.stderr[:200])
            with open(resp, "rb") as f:
                self.send(200, "application/ocsp-response", f.read())

    def fault(self, fault, body):
        st = self.server.state
        ra = [("Retry-After", str(st.retry_after))]
        if fault == "timeout":
            self.rec["outcome"] = "no-response"
            self.connection.settimeout(0.2)
            end = time.time() + 120
            while time.time() < end:
                try:
                    if self.connection.recv(1024) == b"":
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
            self.close_connection = True
            return
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rec["outcome"] = "reset"
            self.close_connection = True
            return
        if fault == "http500":
            return self.send(500, "text/plain", b"internal error\n")
        if fault == "http503":
            return self.send(503, "text/plain", b"unavailable\n", ra)
        if fault == "http429":
            return self.send(429, "text/plain", b"too many requests\n", ra)
        if fault == "garbage":
            junk = b"\x00" + os.urandom(511)
            return self.send(200, REPLY, junk)
        if fault == "rejection":
            return self.send(200, REPLY, status_only(2, "bad request", 2))
        if fault == "waiting":
            return self.send(200, REPLY, status_only(3))
        m = re.fullmatch(r"flaky-(\d+)", fault)
        if m:
            key = (fault, self.imprint(body))
            with st.lock:
                seen = st.flaky.get(key, 0)
                st.flaky[key] = seen + 1
            if seen < int(m.group(1)):
                return self.send(503, "text/plain", b"flaky\n")
        if fault == "huge-body":
            self.send_response(200)
            self.send_header("Content-Type", REPLY)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            block = b"\x30\x84\x0c\x80\x00\x00" + os.urandom(65530)
            for _ in range(3200):
                self.wfile.write(block)
            return
        reply = self.reply(body, fault)
        if fault == "wrong-content-type":
            return self.send(200, "text/html", reply)
        if fault == "slow-drip":
            head = ("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (REPLY, len(reply))).encode()
            self.rec["status"] = 200
            self.close_connection = True
            for i in range(len(head + reply)):
                self.wfile.write((head + reply)[i:i + 1])
                self.wfile.flush()
                time.sleep(0.5)
            return
        if fault == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", REPLY)
            self.send_header("Content-Length", str(len(reply)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply[: len(reply) // 2])
            self.close_connection = True
            self.rec["outcome"] = "closed-early"
            return
        self.send(200, REPLY, reply)

    @staticmethod
    def imprint(body):
        i = body.find(b"\x04", 10)  # good enough as a key: the hash follows the algorithm
        return body[i:i + 66]

    def reply(self, body, fault):
        st = self.server.state
        work = tempfile.mkdtemp(dir=st.tmp)
        q, r, s = (os.path.join(work, n) for n in ("q.tsq", "r.tsr", "serial"))
        if fault in ("wrong-nonce", "wrong-imprint", "no-nonce"):
            body = alter_query(body, fault)
        with open(q, "wb") as f:
            f.write(body)
        h = "%X" % st.next_serial()
        with open(s, "w") as f:
            f.write("0" * (len(h) % 2) + h + "\n")
        p = lambda n: os.path.join(st.pki, n)  # noqa: E731
        cert, key, chain = p("tsa.pem"), p("tsa.key"), p("inter.pem")
        if fault == "untrusted-tsa":
            d = st.fault_certs()
            cert, key, chain = d("untrusted.pem"), d("untrusted.key"), d("root.pem")
        env = dict(os.environ, TSA_SERIAL=s, TSA_CERT=cert, TSA_KEY=key, TSA_CHAIN=chain)
        openssl(["ts", "-reply", "-config", st.cnf, "-queryfile", q, "-out", r], env=env)
        with open(r, "rb") as f:
            out = f.read()
        if fault == "no-eku":
            out = self.resign(out, work)
        return out

    def resign(self, reply, work):
        from asn1crypto import cms, tsp
        d = self.server.state.fault_certs()
        resp = tsp.TimeStampResp.load(reply)
        tst = resp["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
        t, tok = os.path.join(work, "tst.der"), os.path.join(work, "tok.der")
        with open(t, "wb") as f:
            f.write(tst.dump(force=True))
        openssl(["cms", "-sign", "-binary", "-nodetach", "-econtent_type", TST_INFO_OID, "-in", t,
                 "-signer", d("noeku.pem"), "-inkey", d("noeku.key"), "-md", "sha256", "-cades",
                 "-nosmimecap", "-certfile", d("root.pem"), "-outform", "DER", "-out", tok])
        with open(tok, "rb") as f:
            token = cms.ContentInfo.load(f.read())
        return tsp.TimeStampResp({"status": resp["status"], "time_stamp_token": token}).dump(force=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pki", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fault", default="none")
    ap.add_argument("--log-requests")
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.state = State(a.pki, a.fault, a.log_requests, a.retry_after)
    srv.state.fault_certs()  # made up front so the first faulty request is not slow
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
