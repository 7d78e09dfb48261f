#!/usr/bin/env python3
"""Sets an ingest domain's stream callback with the official SDK (SetLiveStreamsNotifyUrlConfig)
and prints the configuration back. Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID and
ALIBABA_CLOUD_ACCESS_KEY_SECRET, the endpoint from LIVENOTIFY_ENDPOINT (default 127.0.0.1:8080).

    python3 examples/set_notify_config.py push.example1.com http://127.0.0.1:9000/callbacks [AUTH_KEY]
"""
import os
import sys

from alibabacloud_live20161101 import models
from alibabacloud_live20161101.client import Client
from alibabacloud_tea_openapi.models import Config

domain, notify_url = sys.argv[1], sys.argv[2]
auth_key = sys.argv[3] if len(sys.argv) > 3 else None
endpoint = os.environ.get("LIVENOTIFY_ENDPOINT", "127.0.0.1:8080").removeprefix("http://")
client = Client(Config(
    access_key_id=os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
    access_key_secret=os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
    endpoint=endpoint, protocol="http", region_id="cn-shanghai"))
client.set_live_streams_notify_url_config(models.SetLiveStreamsNotifyUrlConfigRequest(
    domain_name=domain, notify_url=notify_url,
    notify_req_auth="yes" if auth_key else "no", notify_auth_key=auth_key))
config = client.describe_live_streams_notify_url_config(
    models.DescribeLiveStreamsNotifyUrlConfigRequest(domain_name=domain))
print(config.body.live_streams_notify_config)
