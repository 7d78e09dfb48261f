"""Helpers for the end-to-end pipeline tests (``test_pipeline_*.py``).

- :class:`Receiver`: a customer's callback receiver on 127.0.0.1 (``http.server`` in a thread)
  that answers ``200 {"code":0}`` and records every request.
- :func:`set_callback`: ``SetLiveStreamsNotifyUrlConfig`` through the official Tea SDK, with
  ``NotifyReqAuth=yes`` and :data:`AUTH_KEY`.
- :func:`describe_records`: ``DescribeLiveStreamsNotifyRecords`` through the official SDK.
- :func:`check_callback`: the Alibaba callback parameters and a valid ``ALI-LIVE-SIGNATURE``.
- :class:`Nginx`: nginx with the RTMP module on loopback, its hooks pointed at livenotify.
- :func:`wait_for`: polls a condition with a generous deadline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Callable

import pytest

from .conftest import SEED_FIELDS, Server, now_utc, utc

AUTH_KEY = "PipelineKey0123456789"
NODE = "e2e-node"
PATIENCE = 60.0
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")


def wait_for(what: str, check: Callable[[], Any], timeout: float = PATIENCE) -> Any:
    """Returns the first truthy ``check()``; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------
# The customer's receiver
# --------------------------------------------------------------------------------------------


class Receiver:
    """Records each GET as ``{"path", "query": {name: value}, "headers": {lower: value}}``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        lock = threading.Lock()
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urllib.parse.urlsplit(self.path)
                with lock:
                    requests.append(
                        {
                            "path": parts.path,
                            "query": dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)),
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                        }
                    )
                body = b'{"code":0}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/callbacks"

    def actions(self) -> list[str]:
        return [r["query"].get("action", "") for r in list(self.requests)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------------------------
# The API, through the official SDK
# --------------------------------------------------------------------------------------------


def set_callback(server: Server, domain: str, notify_url: str) -> None:
    """SetLiveStreamsNotifyUrlConfig with NotifyReqAuth=yes, as a customer would."""
    from alibabacloud_live20161101 import models as live_models

    request = live_models.SetLiveStreamsNotifyUrlConfigRequest(
        domain_name=domain, notify_url=notify_url, notify_req_auth="yes", notify_auth_key=AUTH_KEY
    )
    server.tea_client().set_live_streams_notify_url_config(request)


def describe_records(server: Server, domain: str, since) -> list[dict]:
    """Every record of ``domain`` from ``since`` on (one page of 500), as the SDK returns them."""
    from alibabacloud_live20161101 import models as live_models

    request = live_models.DescribeLiveStreamsNotifyRecordsRequest(
        domain_name=domain,
        start_time=utc(since),
        end_time=utc(now_utc() + dt.timedelta(minutes=1)),
        page_size=500,
    )
    body = server.tea_client().describe_live_streams_notify_records(request).body.to_map()
    return body.get("NotifyRecordsInfo", {}).get("LiveStreamNotifyRecordsInfo", [])


def wait_for_records(server: Server, domain: str, since, count: int) -> list[dict]:
    def enough() -> list[dict] | None:
        records = describe_records(server, domain, since)
        return records if len(records) >= count else None

    return wait_for(f"{count} notify records of {domain}", enough)


def assert_records_complete(records: list[dict], expected_types: set[str]) -> None:
    """Every seed field non-empty, every attempt a success, and the expected callback types."""
    for record in records:
        empty = [name for name in SEED_FIELDS if not str(record.get(name, ""))]
        assert not empty, f"empty fields {empty} in {record}"
        assert record["NotifyResult"] == "success", record
        assert record["Description"] == "success", record
        assert "ALI-LIVE-SIGNATURE: " in record["NotifyHeader"], record
    assert {r["NotifyType"] for r in records} == expected_types


# --------------------------------------------------------------------------------------------
# The callback on the wire
# --------------------------------------------------------------------------------------------


def signature(domain: str, timestamp: str) -> str:
    return hashlib.md5(f"{domain}|{timestamp}|{AUTH_KEY}".encode()).hexdigest()


def check_callback(request: dict, *, action: str, domain: str, appname: str, stream: str,
                   ip: str, usrargs: str, since: float) -> None:
    """The Alibaba stream callback parameters and a signature the customer can verify."""
    q = request["query"]
    assert request["path"] == "/callbacks"
    assert q["action"] == action
    assert q["app"] == domain
    assert q["appname"] == appname
    assert q["id"] == stream
    assert q["ip"] == ip
    assert q["usrargs"] == usrargs
    assert q["node"] == NODE
    assert since - 5 <= int(q["time"]) <= time.time() + 5, q["time"]
    timestamp = request["headers"]["ali-live-timestamp"]
    assert abs(int(timestamp) - time.time()) < 120
    assert request["headers"]["ali-live-signature"] == signature(domain, timestamp)


# --------------------------------------------------------------------------------------------
# nginx with the RTMP module
# --------------------------------------------------------------------------------------------


def media_tools_or_skip() -> None:
    """nginx, its RTMP module and ffmpeg, or a skip naming what is missing (a failure in CI)."""
    missing = [name for name in ("nginx", "ffmpeg") if shutil.which(name) is None]
    if not RTMP_MODULE.is_file():
        missing.append(f"libnginx-mod-rtmp ({RTMP_MODULE})")
    if missing:
        message = f"end-to-end media test needs {', '.join(missing)}: apt-get install nginx libnginx-mod-rtmp ffmpeg"
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(message)
        pytest.skip(message)


class Nginx:
    """nginx in the foreground on loopback, its RTMP hooks calling livenotify."""

    def __init__(self, workdir: Path, hook_url: str) -> None:
        self.workdir = workdir
        self.rtmp_port = free_port()
        (workdir / "logs").mkdir(parents=True, exist_ok=True)
        conf = workdir / "nginx.conf"
        conf.write_text(
            f"""load_module {RTMP_MODULE};
daemon off;
master_process off;
pid {workdir}/nginx.pid;
error_log {workdir}/logs/error.log info;
events {{ worker_connections 64; }}
rtmp {{
    server {{
        listen 127.0.0.1:{self.rtmp_port};
        application live {{
            live on;
            on_publish {hook_url};
            on_publish_done {hook_url};
        }}
    }}
}}
"""
        )
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(workdir), "-e", str(workdir / "logs" / "error.log"), "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "logs" / "stderr.log", "wb"),
        )
        wait_for("nginx listening", self._listening, timeout=30)

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"nginx exited: {self.log()}")
        try:
            with socket.create_connection(("127.0.0.1", self.rtmp_port), timeout=0.5):
                return True
        except OSError:
            return False

    def push(self, app: str, stream: str, args: str, seconds: int = 3) -> None:
        """ffmpeg pushes ``seconds`` of a generated test picture and tone."""
        url = f"rtmp://127.0.0.1:{self.rtmp_port}/{app}/{stream}?{args}"
        done = subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
             "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine",
             "-t", str(seconds), "-c:v", "libx264", "-c:a", "aac", "-f", "flv", url],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, f"ffmpeg failed: {done.stderr}\nnginx: {self.log()}"

    def log(self) -> str:
        path = self.workdir / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
