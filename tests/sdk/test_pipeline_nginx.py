"""End to end with real software: a media server's hooks in, signed Alibaba callbacks out to a
local receiver, both records listed by the official SDK with every field filled.

- nginx + libnginx-mod-rtmp on loopback, ffmpeg pushing a few seconds of a generated stream;
- the same flow through the SRS hook (SRS's documented JSON, posted by this test);
- the same flow through the generic event hook.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from .conftest import now_utc
from .pipeline_support import (
    NODE,
    Nginx,
    Receiver,
    assert_records_complete,
    check_callback,
    media_tools_or_skip,
    set_callback,
    wait_for,
    wait_for_records,
)


@pytest.fixture
def pipeline(start_server):
    """A server that may call back to loopback, with node name :data:`NODE`."""
    return start_server("--allow-private-targets", "--node-name", NODE)


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def post(url: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def test_nginx_rtmp_publish_then_publish_done_reach_the_customer_signed(pipeline, receiver, tmp_path):
    media_tools_or_skip()
    domain = "push.example1.com"
    pipeline.add_domain(domain)
    set_callback(pipeline, domain, receiver.url)
    since, started = now_utc(), time.time()
    nginx = Nginx(tmp_path / "nginx", f"http://127.0.0.1:{pipeline.port}/hooks/nginx-rtmp?domain={domain}")
    try:
        nginx.push("live", "cam1", "k=v")
        wait_for("publish and publish_done delivered", lambda: len(receiver.requests) >= 2)
    finally:
        nginx.stop()

    assert receiver.actions() == ["publish", "publish_done"]
    for request, action in zip(receiver.requests, ["publish", "publish_done"]):
        check_callback(request, action=action, domain=domain, appname="live", stream="cam1",
                       ip="127.0.0.1", usrargs="k=v", since=started)
    records = wait_for_records(pipeline, domain, since, 2)
    assert len(records) == 2
    assert_records_complete(records, {"publish", "publish_done"})


def test_srs_hooks_reach_the_customer_signed(pipeline, receiver):
    domain = "push.example2.com"
    pipeline.add_domain(domain)
    set_callback(pipeline, domain, receiver.url)
    since, started = now_utc(), time.time()
    hook = f"http://127.0.0.1:{pipeline.port}/hooks/srs"
    base = {"server_id": "vid-0xk989d", "client_id": "341w361a", "ip": "198.51.100.7",
            "vhost": domain, "app": "live", "tcUrl": f"rtmp://{domain}/live", "stream": "livestream",
            "param": "?k=v", "stream_url": "/live/livestream", "stream_id": "vid-124q9y3"}

    answers = [post(hook, json.dumps(dict(base, action=action)).encode(), "application/json")
               for action in ("on_publish", "on_unpublish")]
    wait_for("publish and publish_done delivered", lambda: len(receiver.requests) >= 2)

    assert answers == [(200, b'{"code":0}')] * 2
    assert receiver.actions() == ["publish", "publish_done"]
    for request, action in zip(receiver.requests, ["publish", "publish_done"]):
        check_callback(request, action=action, domain=domain, appname="live", stream="livestream",
                       ip="198.51.100.7", usrargs="k=v", since=started)
    assert_records_complete(wait_for_records(pipeline, domain, since, 2), {"publish", "publish_done"})


def test_generic_events_reach_the_customer_signed(pipeline, receiver):
    domain = "push.example3.com"
    pipeline.add_domain(domain)
    set_callback(pipeline, domain, receiver.url)
    since, started = now_utc(), time.time()
    hook = f"http://127.0.0.1:{pipeline.port}/hooks/events"

    for action in ("publish", "publish_done"):
        event = {"action": action, "domain": domain, "app": "live", "stream": "s1", "client_id": "c1",
                 "ip": "203.0.113.7", "usrargs": "k=v", "height": 720, "width": 1280}
        status, body = post(hook, json.dumps(event).encode(), "application/json")
        assert status == 200 and json.loads(body)["outcome"] == "queued", body
    wait_for("publish and publish_done delivered", lambda: len(receiver.requests) >= 2)

    assert receiver.actions() == ["publish", "publish_done"]
    for request, action in zip(receiver.requests, ["publish", "publish_done"]):
        check_callback(request, action=action, domain=domain, appname="live", stream="s1",
                       ip="203.0.113.7", usrargs="k=v", since=started)
    assert receiver.requests[0]["query"]["height"] == "720"
    assert_records_complete(wait_for_records(pipeline, domain, since, 2), {"publish", "publish_done"})
