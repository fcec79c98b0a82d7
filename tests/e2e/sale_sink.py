"""A loopback HTTP server that takes sales like the API does (200 or a configured failure) and counts
what it stored per category, once per Idempotency-Key like the consumer: the reference the
locustfile's own tally is checked against. With store_before_fail the failing answers come after
the sale was stored (the in-doubt case a timeout or a lost connection leaves). With stall_after=N
every request after the N-th is held unanswered until the sink closes: a run that ends with every
user waiting on its sale."""
import http.server
import json
import pathlib
import threading

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Sink:
    def __init__(self, fail_every=0, fail_status=503, store_before_fail=False, body=None, stall_after=0):
        self.ok, self.bad, self.lock = {}, 0, threading.Lock()
        self.stall_after, self.closing = stall_after, threading.Event()
        self.n, self.fail_every, self.fail_status = 0, fail_every, fail_status
        self.store_before_fail, self.body = store_before_fail, body
        self.keys, self.no_key = set(), 0
        sink = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    d = json.loads(body)
                    valid = (self.path == "/api/v1/ventas" and d["categoria"] in
                             ("Electronica", "Ropa", "Hogar", "Belleza") and d["precio"] > 0
                             and isinstance(d["cantidad_vendida"], int) and d["producto_id"])
                except Exception:
                    valid = False
                key = self.headers.get("Idempotency-Key")
                with sink.lock:
                    sink.n += 1
                    n = sink.n  # this request's number: another may count itself before the next lock
                if sink.stall_after and n > sink.stall_after:
                    sink.closing.wait()
                    return
                with sink.lock:
                    fail = sink.fail_every and n % sink.fail_every == 0
                    sink.no_key += key is None
                    if valid and (not fail or sink.store_before_fail) and key not in sink.keys:
                        sink.keys.add(key)
                        sink.ok[d["categoria"]] = sink.ok.get(d["categoria"], 0) + 1
                    elif not valid:
                        sink.bad += 1
                code = 422 if not valid else (sink.fail_status if fail else 200)
                out = (json.dumps({"sale_id": key, "estado": "ok"}) if code == 200 else
                       sink.body or json.dumps({"error": "x", "message": "x", "fields": []})).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
