#!/usr/bin/env python3
"""A stand-in for a customer's callback server: prints every stream callback livenotify sends
and checks its ALI-LIVE-SIGNATURE when NOTIFY_AUTH_KEY is set. Standard library only.

    NOTIFY_AUTH_KEY=... python3 examples/receiver.py 9000
"""
import hashlib
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

AUTH_KEY = os.environ.get("NOTIFY_AUTH_KEY", "")


class Callback(BaseHTTPRequestHandler):
    def do_GET(self):
        params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        verdict = "unsigned"
        timestamp = self.headers.get("ALI-LIVE-TIMESTAMP")
        signature = self.headers.get("ALI-LIVE-SIGNATURE")
        if AUTH_KEY and timestamp and signature:
            expected = hashlib.md5(f"{params.get('app', '')}|{timestamp}|{AUTH_KEY}".encode()).hexdigest()
            verdict = "signature ok" if expected == signature else "SIGNATURE MISMATCH"
        print(f"{params.get('action')}: domain={params.get('app')} app={params.get('appname')} "
              f"stream={params.get('id')} ip={params.get('ip')} usrargs={params.get('usrargs')!r} "
              f"({verdict})", flush=True)
        body = b'{"Code":0,"Msg":"Success"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    print(f"listening on 127.0.0.1:{port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Callback).serve_forever()
