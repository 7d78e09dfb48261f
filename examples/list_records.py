#!/usr/bin/env python3
"""Lists an ingest domain's notify records of the last hour with the official SDK
(DescribeLiveStreamsNotifyRecords). Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID and
ALIBABA_CLOUD_ACCESS_KEY_SECRET, the endpoint from LIVENOTIFY_ENDPOINT (default 127.0.0.1:8080).

    python3 examples/list_records.py push.example1.com
"""
import datetime
import os
import sys

from alibabacloud_live20161101 import models
from alibabacloud_live20161101.client import Client
from alibabacloud_tea_openapi.models import Config

endpoint = os.environ.get("LIVENOTIFY_ENDPOINT", "127.0.0.1:8080").removeprefix("http://")
client = Client(Config(
    access_key_id=os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
    access_key_secret=os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
    endpoint=endpoint, protocol="http", region_id="cn-shanghai"))
now = datetime.datetime.now(datetime.timezone.utc)
fmt = "%Y-%m-%dT%H:%M:%SZ"
response = client.describe_live_streams_notify_records(
    models.DescribeLiveStreamsNotifyRecordsRequest(
        domain_name=sys.argv[1],
        start_time=(now - datetime.timedelta(hours=1)).strftime(fmt),
        end_time=now.strftime(fmt)))
body = response.body
print(f"TotalNum={body.total_num} TotalPage={body.total_page}")
for r in body.notify_records_info.live_stream_notify_records_info:
    print(r.notify_time, r.notify_type, r.notify_result, r.app_name, r.stream_name,
          r.notify_url, r.description)
