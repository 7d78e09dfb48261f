"""DescribeLiveStreamsNotifyRecords (2016-11-01) through the official Alibaba Cloud Python SDKs.

Most tests run three times, once per SDK flavour (fixture ``sdk``): the Tea SDK
(``alibabacloud_live20161101``) with its default signature V3, the Tea SDK with
``signature_algorithm='v2'`` (signature V1), and the old ``aliyunsdkcore`` AcsClient (V1).
Records always come in through ``livenotify records import``; NotifyTimes are relative to
now, since StartTime must lie within the last 7 days.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from .conftest import (
    DEFAULT_DOMAIN,
    SEED_FIELDS,
    Credentials,
    Server,
    SdkCaller,
    SdkError,
    TeaCaller,
    TeaV1Caller,
    WireTap,
    make_record,
    now_utc,
    raw_request,
    sign_v1,
    utc,
    v1_query,
)

RESPONSE_ROOT = "DescribeLiveStreamsNotifyRecordsResponse"
OTHER_DOMAIN = "push.tenant-b.example.com"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture
def base() -> dt.datetime:
    """The time of the first imported record: two hours ago, whole seconds."""
    return now_utc() - dt.timedelta(hours=2)


def params(domain: str = DEFAULT_DOMAIN, **extra: Any) -> dict[str, Any]:
    """Query parameters for the last six hours; ``None`` values are dropped."""
    now = now_utc()
    query: dict[str, Any] = {
        "DomainName": domain,
        "StartTime": utc(now - dt.timedelta(hours=6)),
        "EndTime": utc(now),
    }
    query.update(extra)
    return {k: v for k, v in query.items() if v is not None}


def records_of(body: dict) -> list[dict]:
    info = body["NotifyRecordsInfo"]["LiveStreamNotifyRecordsInfo"]
    assert isinstance(info, list), f"LiveStreamNotifyRecordsInfo is {type(info).__name__}, not a list: {info!r}"
    return info


def acs_records(server: Server, **query: Any) -> list[dict]:
    """The records aliyunsdkcore reads (raw JSON, extensions included) for ``params(**query)``."""
    client = server.acs_client()
    return records_of(json.loads(client.do_action_with_exception(server.acs_request(params(**query)))))


def seed_view(record: dict) -> dict:
    return {name: record[name] for name in SEED_FIELDS}


def all_pages(sdk: SdkCaller, query: dict, page_size: int) -> tuple[list[dict], list[dict]]:
    """Every page until an empty one; returns (bodies, concatenated records)."""
    bodies, records = [], []
    for page in range(1, 1000):
        body = sdk.call({**query, "PageSize": page_size, "PageNumber": page})
        bodies.append(body)
        page_records = records_of(body)
        if not page_records:
            break
        records.extend(page_records)
    return bodies, records


def assert_sdk_error(error: SdkError, sdk: SdkCaller, code: str, status: int) -> None:
    """The error as each SDK surfaces it: class, code, HTTP status and request id."""
    assert (error.code, error.status) == (code, status), f"{sdk.name}: {error.exc!r}"
    assert error.request_id, f"{sdk.name}: no request id in {error.exc!r}"
    assert error.header_request_id == error.request_id, "x-acs-request-id header differs from the body's RequestId"
    if isinstance(sdk, TeaCaller):
        from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

        expected_class = ClientException if 400 <= status < 500 else ServerException
        assert type(error.exc) is expected_class, f"{sdk.name}: {type(error.exc).__name__} for HTTP {status}"
        assert error.exc.statusCode == status
        assert error.data is not None
        assert error.data["RequestId"] == error.request_id
        assert error.data["Code"] == code
        assert set(error.data) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    else:
        from aliyunsdkcore.acs_exception.exceptions import ServerException

        assert type(error.exc) is ServerException
        assert error.exc.get_error_code() == code
        assert error.exc.get_http_status() == status
        assert error.exc.get_request_id() == error.request_id


# --------------------------------------------------------------------------------------------
# Records come back exactly as imported
# --------------------------------------------------------------------------------------------

TRICKY_HEADER = 'Host: 123456.cn-shanghai.example1.com\nUser-Agent: Go-http-client/1.1\nX-Quote: "q" \'s\'\nX-Value: 值\nAccept-Encoding: gzip'
TRICKY_CONTENT = json.dumps(
    {
        "action": "publish_done",
        "app": DEFAULT_DOMAIN,
        "appname": "live/app",
        "id": "流-1 🎥",
        "node": 'edge "1"',
        "path": "C:\\streams\\a",
        "height": 720,
    },
    ensure_ascii=False,
)


def tricky_records(base: dt.datetime) -> list[dict]:
    """Records whose strings exercise encodings: unicode, quotes, newlines, markup, JSON."""
    return [
        make_record(
            base,
            NotifyType="publish_done",
            Description='failed: the server said "no" — 拒绝\ttab',
            StreamName="直播-ストリーム 🎥 a b+c/~*",
            AppName="live app/中文",
            NotifyContent=TRICKY_CONTENT,
            NotifyUrl="http://127.0.0.1:9/callbacks?a=1&b=%20x&c=中",
            NotifyResult="failed",
            NotifyResponse="<html><b>502</b> &amp; 'bad' \"gateway\"</html>",
            NotifyHeader=TRICKY_HEADER,
        ),
        make_record(
            base + dt.timedelta(seconds=1),
            Description="",
            NotifyResponse="",
            NotifyContent='{\\"action\\":\\"publish\\",\\"app\\":\\"push.example1.com\\"}',
            NotifyHeader="",
        ),
        make_record(base + dt.timedelta(seconds=2), StreamName="plain", AppName="app"),
    ]


def test_every_seed_field_round_trips(sdk: SdkCaller, server: Server, domain: str, base: dt.datetime) -> None:
    records = tricky_records(base)
    assert server.import_records(records) == len(records)

    body = sdk.call(params())

    got = records_of(body)
    assert [seed_view(r) for r in got] == [seed_view(r) for r in reversed(records)]
    for record in got:
        assert set(SEED_FIELDS) <= set(record)
    assert body["TotalNum"] == 3
    assert body["TotalPage"] == 1
    assert body["PageNum"] == 1
    assert body["PageSize"] == 20
    assert body["RequestId"]


def test_crlf_headers_and_long_values_round_trip(sdk: SdkCaller, server: Server, domain: str, base: dt.datetime) -> None:
    record = make_record(
        base,
        NotifyHeader="Host: a\r\nContent-Length: 2\r\n\r\n",
        NotifyContent=json.dumps({"blob": "x" * 20000, "nested": {"list": [1, "2", None]}}),
        NotifyResponse="r" * 5000,
    )
    server.import_records([record])
    assert [seed_view(r) for r in records_of(sdk.call(params()))] == [seed_view(record)]


def test_extension_fields_are_returned_only_when_present(server: Server, domain: str, base: dt.datetime) -> None:
    with_extensions = make_record(base, EventId="ev-1", Attempt=3, HttpStatus=502, LatencyMs=1234)
    without = make_record(base + dt.timedelta(seconds=1), StreamName="other")
    server.import_records([with_extensions, without])

    got = acs_records(server)

    assert got[0] == without
    assert set(got[0]) == set(SEED_FIELDS)
    assert got[1] == with_extensions
    assert isinstance(got[1]["Attempt"], int) and isinstance(got[1]["HttpStatus"], int)


@pytest.mark.parametrize("v1", [False, True], ids=["tea-v3", "tea-v1"])
def test_tea_typed_model_gives_lists(server: Server, domain: str, base: dt.datetime, v1: bool) -> None:
    from alibabacloud_live20161101 import models as live_models

    caller = (TeaV1Caller if v1 else TeaCaller)(server, WireTap())

    empty = caller.response(params())
    assert empty.status_code == 200
    assert empty.body is not None, "the Tea SDK could not parse the body (array sent as object?)"
    assert empty.body.notify_records_info is not None
    assert empty.body.notify_records_info.live_stream_notify_records_info == []
    assert empty.body.total_num == 0
    assert empty.headers["x-acs-request-id"] == empty.body.request_id

    record = tricky_records(base)[0]
    server.import_records([record])
    one = caller.response(params())
    assert one.body is not None
    items = one.body.notify_records_info.live_stream_notify_records_info
    assert isinstance(items, list) and len(items) == 1
    item = items[0]
    assert isinstance(item, live_models.DescribeLiveStreamsNotifyRecordsResponseBodyNotifyRecordsInfoLiveStreamNotifyRecordsInfo)
    assert item.notify_header == record["NotifyHeader"]
    assert item.notify_content == record["NotifyContent"]
    assert json.loads(item.notify_content) == json.loads(TRICKY_CONTENT)
    assert item.stream_name == record["StreamName"]
    assert item.app_name == record["AppName"]
    assert item.notify_time == record["NotifyTime"]
    assert item.notify_result == "failed"
    assert item.notify_type == "publish_done"
    assert (one.body.page_num, one.body.page_size, one.body.total_num, one.body.total_page) == (1, 20, 1, 1)
    assert isinstance(one.body.total_num, int)


def test_empty_result_is_an_empty_list(sdk: SdkCaller, server: Server, domain: str) -> None:
    body = sdk.call(params())
    assert records_of(body) == []
    assert body["TotalNum"] == 0
    assert body["TotalPage"] == 0
    assert body["PageNum"] == 1


# --------------------------------------------------------------------------------------------
# Paging and order
# --------------------------------------------------------------------------------------------


def test_paging_45_records_by_20(sdk: SdkCaller, server: Server, domain: str, base: dt.datetime) -> None:
    records = [make_record(base + dt.timedelta(seconds=i), StreamName=f"s{i:02}") for i in range(45)]
    server.import_records(records)

    bodies, got = all_pages(sdk, params(), 20)

    assert [len(records_of(b)) for b in bodies] == [20, 20, 5, 0]
    for number, body in enumerate(bodies, start=1):
        assert body["TotalNum"] == 45
        assert body["TotalPage"] == 3
        assert body["PageNum"] == number
        assert body["PageSize"] == 20
    names = [r["StreamName"] for r in got]
    assert len(set(names)) == 45, "a record repeated or went missing across pages"
    assert names == [f"s{i:02}" for i in reversed(range(45))], "not newest first"


def test_equal_notify_times_keep_a_stable_order(sdk: SdkCaller, server: Server, domain: str, base: dt.datetime) -> None:
    records = [make_record(base, StreamName=f"same{i:02}") for i in range(30)]
    records.append(make_record(base + dt.timedelta(seconds=1), StreamName="newest"))
    records.append(make_record(base - dt.timedelta(seconds=1), StreamName="oldest"))
    server.import_records(records)

    _, first = all_pages(sdk, params(), 7)
    _, again = all_pages(sdk, params(), 7)
    _, whole = all_pages(sdk, params(), 500)

    names = [r["StreamName"] for r in first]
    assert names == [r["StreamName"] for r in again] == [r["StreamName"] for r in whole]
    assert len(names) == len(set(names)) == 32
    assert names[0] == "newest" and names[-1] == "oldest"
    # Equal NotifyTime: newest first means the later import first.
    assert names[1:-1] == [f"same{i:02}" for i in reversed(range(30))]


def test_page_size_defaults_and_limits(sdk: SdkCaller, server: Server, domain: str, base: dt.datetime) -> None:
    server.import_records(make_record(base + dt.timedelta(seconds=i), StreamName=f"s{i}") for i in range(25))

    default = sdk.call(params())
    assert (default["PageNum"], default["PageSize"], default["TotalNum"], default["TotalPage"]) == (1, 20, 25, 2)
    assert len(records_of(default)) == 20

    smallest = sdk.call(params(PageSize=1, PageNumber=25))
    assert (smallest["PageSize"], smallest["TotalPage"], smallest["PageNum"]) == (1, 25, 25)
    assert [r["StreamName"] for r in records_of(smallest)] == ["s0"]

    largest = sdk.call(params(PageSize=500))
    assert (largest["PageSize"], largest["TotalPage"]) == (500, 1)
    assert len(records_of(largest)) == 25

    far = sdk.call(params(PageSize=500, PageNumber=4294967295))
    assert records_of(far) == []
    assert (far["PageNum"], far["TotalNum"]) == (4294967295, 25)


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------


@pytest.fixture
def mixed(server: Server, domain: str, base: dt.datetime) -> list[dict]:
    """Twelve records over two apps, three streams and both results, one minute apart."""
    records = []
    for i in range(12):
        records.append(
            make_record(
                base + dt.timedelta(minutes=i),
                AppName="live" if i % 2 else "app",
                StreamName=f"cam{i % 3}",
                NotifyResult="failed" if i % 4 == 0 else "success",
                NotifyType="publish_done" if i % 5 == 0 else "publish",
                Description="failed" if i % 4 == 0 else "success",
            )
        )
    server.import_records(records)
    return records


def expected(records: list[dict], **match: str) -> list[dict]:
    return [seed_view(r) for r in reversed(records) if all(r[k] == v for k, v in match.items())]


@pytest.mark.parametrize(
    "query, match",
    [
        ({"AppName": "live"}, {"AppName": "live"}),
        ({"StreamName": "cam1"}, {"StreamName": "cam1"}),
        ({"Status": "success"}, {"NotifyResult": "success"}),
        ({"Status": "failed"}, {"NotifyResult": "failed"}),
        ({"AppName": "app", "StreamName": "cam0", "Status": "failed"}, {"AppName": "app", "StreamName": "cam0", "NotifyResult": "failed"}),
        ({"AppName": "nope"}, {"AppName": "nope"}),
    ],
    ids=["app", "stream", "status-success", "status-failed", "all-three", "no-match"],
)
def test_filters(sdk: SdkCaller, mixed: list[dict], query: dict, match: dict) -> None:
    body = sdk.call(params(**query))
    want = expected(mixed, **match)
    assert [seed_view(r) for r in records_of(body)] == want
    assert body["TotalNum"] == len(want)


def test_unicode_stream_filter(sdk: SdkCaller, server: Server, domain: str, base: dt.datetime) -> None:
    special = make_record(base, StreamName="直播 a b+c/~*", AppName="应用 x")
    server.import_records([special, make_record(base, StreamName="直播 a b c/~*", AppName="应用 x")])
    body = sdk.call(params(StreamName="直播 a b+c/~*", AppName="应用 x"))
    assert [seed_view(r) for r in records_of(body)] == [seed_view(special)]


def test_time_range_bounds_are_inclusive(sdk: SdkCaller, server: Server, domain: str, base: dt.datetime) -> None:
    times = [base + dt.timedelta(minutes=i) for i in range(5)]
    server.import_records(make_record(t, StreamName=f"t{i}") for i, t in enumerate(times))

    def names(start: dt.datetime, end: dt.datetime) -> list[str]:
        body = sdk.call({"DomainName": DEFAULT_DOMAIN, "StartTime": utc(start), "EndTime": utc(end)})
        return [r["StreamName"] for r in records_of(body)]

    second = dt.timedelta(seconds=1)
    assert names(times[1], times[3]) == ["t3", "t2", "t1"]
    assert names(times[1] + second, times[3] - second) == ["t2"]
    assert names(times[1] - second, times[1]) == ["t1"]
    assert names(times[4], times[4] + second) == ["t4"]
    assert names(times[4] + second, times[4] + 2 * second) == []


def test_start_time_within_seven_days_is_accepted(sdk: SdkCaller, domain: str) -> None:
    now = now_utc()
    body = sdk.call({"DomainName": DEFAULT_DOMAIN, "StartTime": utc(now - dt.timedelta(days=6, hours=23)), "EndTime": utc(now)})
    assert records_of(body) == []


def test_records_of_other_domains_stay_out(sdk: SdkCaller, server: Server, domain: str, base: dt.datetime) -> None:
    server.add_domain("push.example2.com")
    tenant = server.new_tenant(OTHER_DOMAIN)
    mine = make_record(base, StreamName="mine")
    server.import_records([mine, make_record(base, domain="push.example2.com", StreamName="sibling"), make_record(base, domain=OTHER_DOMAIN, StreamName="theirs")])

    assert [r["StreamName"] for r in records_of(sdk.call(params()))] == ["mine"]
    assert [r["StreamName"] for r in records_of(sdk.call(params("push.example2.com")))] == ["sibling"]
    assert [r["StreamName"] for r in records_of(sdk.as_(tenant.creds).call(params(OTHER_DOMAIN)))] == ["theirs"]


# --------------------------------------------------------------------------------------------
# Parameter errors
# --------------------------------------------------------------------------------------------


def _ago(**delta: float):
    return lambda now: utc(now - dt.timedelta(**delta))


PARAMETER_ERRORS = [
    ("missing-domain", {"DomainName": None}, "MissingDomainName", 400),
    ("unknown-domain", {"DomainName": "nobody.example.com"}, "InvalidDomain.NotFound", 404),
    ("missing-start", {"StartTime": None}, "InvalidStartTime.Malformed", 400),
    ("start-without-z", {"StartTime": lambda now: utc(now - dt.timedelta(hours=1))[:-1]}, "InvalidStartTime.Malformed", 400),
    ("start-with-space", {"StartTime": lambda now: utc(now - dt.timedelta(hours=1)).replace("T", " ")}, "InvalidStartTime.Malformed", 400),
    ("start-impossible-date", {"StartTime": "2026-02-30T00:00:00Z"}, "InvalidStartTime.Malformed", 400),
    ("missing-end", {"EndTime": None}, "InvalidEndTime.Malformed", 400),
    ("end-garbage", {"EndTime": "yesterday"}, "InvalidEndTime.Malformed", 400),
    ("end-with-offset", {"EndTime": lambda now: utc(now)[:-1] + "+00:00"}, "InvalidEndTime.Malformed", 400),
    ("end-equals-start", {"StartTime": _ago(hours=1), "EndTime": _ago(hours=1)}, "InvalidEndTime.Mismatch", 400),
    ("end-before-start", {"StartTime": _ago(hours=1), "EndTime": _ago(hours=2)}, "InvalidEndTime.Mismatch", 400),
    ("start-eight-days-ago", {"StartTime": _ago(days=8)}, "Duration.Exceed", 400),
    ("page-size-0", {"PageSize": 0}, "InvalidParam", 400),
    ("page-size-501", {"PageSize": 501}, "InvalidParam", 400),
    ("page-size-negative", {"PageSize": -5}, "InvalidParam", 400),
    ("page-size-not-integer", {"PageSize": "abc"}, "InvalidParam", 400),
    ("page-size-fraction", {"PageSize": "1.5"}, "InvalidParam", 400),
    ("page-number-0", {"PageNumber": 0}, "InvalidParam", 400),
    ("page-number-not-integer", {"PageNumber": "two"}, "InvalidParam", 400),
    ("status-unknown", {"Status": "ok"}, "InvalidParam", 400),
]


@pytest.mark.parametrize("overrides, code, status", [c[1:] for c in PARAMETER_ERRORS], ids=[c[0] for c in PARAMETER_ERRORS])
def test_parameter_errors(sdk: SdkCaller, domain: str, overrides: dict, code: str, status: int) -> None:
    now = now_utc()
    query = params(**{k: (v(now) if callable(v) else v) for k, v in overrides.items()})
    error = sdk.error(query)
    assert_sdk_error(error, sdk, code, status)


def test_unknown_action(sdk: SdkCaller, domain: str) -> None:
    assert_sdk_error(sdk.error(params(), action="DescribeLiveStreamsNotifyRecordz"), sdk, "InvalidAction.NotFound", 404)


def test_wrong_version(sdk: SdkCaller, domain: str) -> None:
    assert_sdk_error(sdk.error(params(), version="2014-01-01"), sdk, "InvalidVersion", 400)


# --------------------------------------------------------------------------------------------
# Authentication errors
# --------------------------------------------------------------------------------------------


def test_unknown_access_key(sdk: SdkCaller, server: Server, domain: str) -> None:
    stranger = Credentials("0", "LTAI" + uuid.uuid4().hex[:20], "x" * 30)
    assert_sdk_error(sdk.as_(stranger).error(params()), sdk, "InvalidAccessKeyId.NotFound", 404)


def test_disabled_and_deleted_keys(sdk: SdkCaller, server: Server, domain: str) -> None:
    key = server.create_key(server.admin.account_id)
    caller = sdk.as_(key)
    assert records_of(caller.call(params())) == []

    server.cli("admin", "key", "disable", key.access_key_id)
    assert_sdk_error(caller.error(params()), sdk, "InvalidAccessKeyId.Inactive", 400)

    server.cli("admin", "key", "enable", key.access_key_id)
    assert records_of(caller.call(params())) == []

    server.cli("admin", "key", "delete", key.access_key_id)
    assert_sdk_error(caller.error(params()), sdk, "InvalidAccessKeyId.NotFound", 404)
    # The admin key is untouched.
    assert records_of(sdk.call(params())) == []


def test_wrong_secret(sdk: SdkCaller, server: Server, domain: str) -> None:
    wrong = Credentials(server.admin.account_id, server.admin.access_key_id, server.admin.access_key_secret + "x")
    error = sdk.as_(wrong).error(params())
    if isinstance(sdk, TeaCaller):
        assert_sdk_error(error, sdk, "SignatureDoesNotMatch", 400)
        assert "server string to sign is:" in error.data["Message"]
    else:
        # aliyunsdkcore compares the server's string to sign with its own; they match, so it
        # reports the secret as wrong (and must not crash with an IndexError on the message).
        assert_sdk_error(error, sdk, "InvalidAccessKeySecret", 400)


def test_wrong_secret_message_carries_the_string_to_sign(server: Server, domain: str) -> None:
    wrong = Credentials(server.admin.account_id, server.admin.access_key_id, "not-the-secret")
    query = v1_query(wrong, params())
    response = raw_request(server, query)
    body = response.json()
    assert response.status == 400
    assert body["Code"] == "SignatureDoesNotMatch"
    sent = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    _, string_to_sign = sign_v1(sent, wrong.access_key_secret, "POST")
    assert body["Message"].endswith("server string to sign is:" + string_to_sign)
    assert body["Message"].split(":")[1] == string_to_sign
    assert response.headers["x-acs-request-id"] == body["RequestId"]


def test_failed_signature_does_not_burn_the_nonce(sdk: SdkCaller, server: Server, domain: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk.freeze(monkeypatch, nonce=uuid.uuid4().hex)
    wrong = Credentials(server.admin.account_id, server.admin.access_key_id, server.admin.access_key_secret + "x")
    assert sdk.as_(wrong).error(params()).status == 400
    assert records_of(sdk.call(params())) == []


def test_security_token_is_refused(sdk: SdkCaller, server: Server, domain: str) -> None:
    error = sdk.as_(server.admin, security_token="sts-token-" + uuid.uuid4().hex).error(params())
    assert_sdk_error(error, sdk, "InvalidSecurityToken.NotSupported", 400)


@pytest.mark.parametrize("skew_minutes", [-16, 16, -60 * 24])
def test_timestamp_skew_over_15_minutes(sdk: SdkCaller, domain: str, monkeypatch: pytest.MonkeyPatch, skew_minutes: int) -> None:
    sdk.freeze(monkeypatch, timestamp=utc(now_utc() + dt.timedelta(minutes=skew_minutes)))
    assert_sdk_error(sdk.error(params()), sdk, "InvalidTimeStamp.Expired", 400)


def test_timestamp_skew_within_15_minutes(sdk: SdkCaller, domain: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk.freeze(monkeypatch, timestamp=utc(now_utc() - dt.timedelta(minutes=10)))
    assert records_of(sdk.call(params())) == []


def test_reused_nonce(sdk: SdkCaller, domain: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk.freeze(monkeypatch, nonce=uuid.uuid4().hex)
    assert records_of(sdk.call(params())) == []
    assert_sdk_error(sdk.error(params()), sdk, "SignatureNonceUsed", 400)


def test_replayed_raw_request_is_rejected(server: Server, domain: str) -> None:
    query = v1_query(server.admin, params())
    first = raw_request(server, query)
    replay = raw_request(server, query)

    assert first.status == 200, first.body
    assert records_of(first.json()) == []
    assert replay.status == 400
    body = replay.json()
    assert body["Code"] == "SignatureNonceUsed"
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert replay.headers["x-acs-request-id"] == body["RequestId"] != first.json()["RequestId"]
    assert replay.headers["content-type"].startswith("application/json")


def test_a_v1_request_takes_its_action_from_the_signed_parameters_not_a_header(server: Server, domain: str) -> None:
    # A V1 signature covers the parameters only: a header must not turn a signed read into
    # another action.
    query = v1_query(server.admin, params())
    swapped = {"x-acs-action": "DeleteLiveStreamsNotifyUrlConfig", "x-acs-version": "2099-01-01"}
    response = raw_request(server, query, headers=swapped)
    assert response.status == 200, response.body
    assert records_of(response.json()) == []


def test_raw_get_request(server: Server, domain: str, base: dt.datetime) -> None:
    server.import_records([make_record(base)])
    response = raw_request(server, v1_query(server.admin, params(), method="GET"), method="GET")
    assert response.status == 200, response.body
    assert [seed_view(r) for r in records_of(response.json())] == [make_record(base)]


# --------------------------------------------------------------------------------------------
# Another account's domain looks exactly like a missing one
# --------------------------------------------------------------------------------------------


def test_another_accounts_domain_is_not_found(sdk: SdkCaller, server: Server, domain: str, base: dt.datetime) -> None:
    tenant = server.new_tenant(OTHER_DOMAIN)
    server.import_records([make_record(base), make_record(base, domain=OTHER_DOMAIN)])

    theirs = sdk.error(params(OTHER_DOMAIN))
    missing = sdk.error(params("missing.example.com"))
    assert_sdk_error(theirs, sdk, "InvalidDomain.NotFound", 404)
    assert_sdk_error(missing, sdk, "InvalidDomain.NotFound", 404)
    if theirs.data is not None:  # Tea keeps the whole body (its message embeds the request id)
        strip = lambda d: {k: v for k, v in d.items() if k not in ("RequestId", "HostId")}  # noqa: E731
        assert strip(theirs.data) == strip(missing.data)
    else:
        assert theirs.message == missing.message

    # And the other way round: the tenant's key cannot read the admin's domain.
    assert_sdk_error(sdk.as_(tenant.creds).error(params()), sdk, "InvalidDomain.NotFound", 404)


def test_another_accounts_domain_raw_bodies_match(server: Server, domain: str) -> None:
    server.new_tenant(OTHER_DOMAIN)
    theirs = raw_request(server, v1_query(server.admin, params(OTHER_DOMAIN)))
    missing = raw_request(server, v1_query(server.admin, params("missing.example.com")))
    assert theirs.status == missing.status == 404
    strip = lambda d: {k: v for k, v in d.items() if k not in ("RequestId", "HostId")}  # noqa: E731
    assert strip(theirs.json()) == strip(missing.json())
    assert theirs.json()["Code"] == "InvalidDomain.NotFound"


# --------------------------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------------------------


def xml_records(root: ET.Element) -> list[dict]:
    info = root.find("NotifyRecordsInfo")
    assert info is not None, ET.tostring(root)
    assert all(child.tag == "LiveStreamNotifyRecordsInfo" for child in info)
    return [{field.tag: field.text or "" for field in item} for item in info]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_xml_through_aliyunsdkcore_do_action(server: Server, domain: str, base: dt.datetime) -> None:
    records = tricky_records(base)
    server.import_records(records)
    client = server.acs_client()

    request = server.acs_request(params())
    request.set_accept_format("XML")
    raw = client.do_action(request)

    root = ET.fromstring(raw)
    assert root.tag == RESPONSE_ROOT
    assert root.findtext("RequestId")
    assert (root.findtext("PageNum"), root.findtext("PageSize"), root.findtext("TotalNum"), root.findtext("TotalPage")) == ("1", "20", "3", "1")
    assert xml_records(root) == [seed_view(r) for r in reversed(records)]


@pytest.mark.parametrize("fmt", ["XML", "xml"])
def test_xml_through_a_raw_v1_request(server: Server, domain: str, base: dt.datetime, fmt: str) -> None:
    record = tricky_records(base)[0]
    server.import_records([record])

    response = raw_request(server, v1_query(server.admin, params(), fmt=fmt))

    assert response.status == 200, response.body
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.body)
    assert root.tag == RESPONSE_ROOT
    assert root.findtext("RequestId") == response.headers["x-acs-request-id"]
    assert xml_records(root) == [seed_view(record)]


def test_xml_empty_page_and_error(server: Server, domain: str) -> None:
    empty = raw_request(server, v1_query(server.admin, params(), fmt="XML"))
    root = ET.fromstring(empty.body)
    assert root.tag == RESPONSE_ROOT
    assert xml_records(root) == []
    assert root.findtext("TotalNum") == "0"

    error = raw_request(server, v1_query(server.admin, params("missing.example.com"), fmt="XML"))
    assert error.status == 404
    assert error.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(error.body)
    assert root.tag == "Error"
    assert root.findtext("Code") == "InvalidDomain.NotFound"
    assert root.findtext("RequestId") == error.headers["x-acs-request-id"]
    assert root.find("HostId") is not None and root.find("Message") is not None


def test_json_is_the_default_format(server: Server, domain: str) -> None:
    response = raw_request(server, v1_query(server.admin, params(), fmt=None))
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert records_of(response.json()) == []


# --------------------------------------------------------------------------------------------
# The CLI reads what the SDKs read
# --------------------------------------------------------------------------------------------


def cli_records(server: Server, creds: Credentials, *args: str) -> list[dict]:
    done = server.run(
        "records",
        "--endpoint",
        server.url.rstrip("/"),
        "--domain",
        DEFAULT_DOMAIN,
        "--since",
        "6h",
        "--json",
        *args,
        env={"ALIBABA_CLOUD_ACCESS_KEY_ID": creds.access_key_id, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": creds.access_key_secret},
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_cli_lists_the_same_records_as_the_sdk(server: Server, domain: str, mixed: list[dict], base: dt.datetime) -> None:
    # More than one 500-record page, so the CLI has to page too.
    extra = [make_record(base + dt.timedelta(hours=1, seconds=i), StreamName=f"bulk{i}", EventId=f"e{i}", Attempt=1) for i in range(500)]
    server.import_records(extra)

    def sdk_records(**query: Any) -> list[dict]:
        records = []
        for page in range(1, 100):
            got = acs_records(server, PageSize=500, PageNumber=page, **query)
            if not got:
                return records
            records.extend(got)
        raise AssertionError("paging did not end")

    everything = cli_records(server, server.admin)
    assert len(everything) == 512
    assert everything == sdk_records()
    assert cli_records(server, server.admin, "--app", "live") == sdk_records(AppName="live")
    assert cli_records(server, server.admin, "--status", "failed") == sdk_records(Status="failed")
    assert cli_records(server, server.admin, "--stream", "cam2", "--app", "app") == sdk_records(StreamName="cam2", AppName="app")


def test_cli_waits_out_throttling_instead_of_losing_pages(start_server, base: dt.datetime) -> None:
    # One call a second: the three pages of 1,200 records need two waits of about a second.
    server = start_server("--rate-limit", "DescribeLiveStreamsNotifyRecords=1")
    server.add_domain(DEFAULT_DOMAIN)
    server.import_records(make_record(base + dt.timedelta(milliseconds=i), StreamName=f"s{i}") for i in range(1200))
    listed = cli_records(server, server.admin)
    assert len(listed) == 1200
    assert len({r["StreamName"] for r in listed}) == 1200


def test_cli_reports_api_errors(server: Server, domain: str) -> None:
    wrong = Credentials(server.admin.account_id, server.admin.access_key_id, "wrong")
    done = server.run(
        "records", "--endpoint", server.url.rstrip("/"), "--domain", DEFAULT_DOMAIN, "--json",
        check=False,
        env={"ALIBABA_CLOUD_ACCESS_KEY_ID": wrong.access_key_id, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": wrong.access_key_secret},
    )
    assert done.returncode != 0
    assert "SignatureDoesNotMatch" in done.stderr
    assert done.stdout.strip() == ""



def test_each_flavour_signs_as_documented(sdk: SdkCaller, server: Server, domain: str) -> None:
    """Guards the fixtures themselves: tea-v3 signs V3, tea-v1 and acs sign V1, all at us."""
    sdk.call(params())
    headers = {k.lower(): v for k, v in (sdk.tap.request_headers or {}).items()}
    query = sdk.tap.request_query or {}
    if sdk.name == "tea-v3":
        assert headers["authorization"].startswith("ACS3-HMAC-SHA256 Credential=" + server.admin.access_key_id + ",")
        assert "Signature" not in query and "Action" not in query
        assert headers["host"] == server.endpoint
    else:
        assert query["SignatureMethod"] == "HMAC-SHA1"
        assert query["SignatureVersion"] == "1.0"
        assert query["AccessKeyId"] == server.admin.access_key_id
        assert query["Action"] == "DescribeLiveStreamsNotifyRecords"
        assert "authorization" not in headers


def test_empty_filters_mean_no_filter(sdk: SdkCaller, mixed: list[dict]) -> None:
    """The SDKs send ``AppName=`` for an empty string; that filters nothing."""
    body = sdk.call(params(AppName="", StreamName="", Status="", PageSize=50))
    assert [seed_view(r) for r in records_of(body)] == expected(mixed)


def test_concurrent_calls(server: Server, domain: str, base: dt.datetime) -> None:
    from concurrent.futures import ThreadPoolExecutor

    server.import_records(make_record(base + dt.timedelta(seconds=i), StreamName=f"c{i}") for i in range(30))
    tea = server.tea_client()
    acs = server.acs_client()

    def one(i: int) -> tuple[int, str]:
        if i % 2:
            body = json.loads(acs.do_action_with_exception(server.acs_request(params(PageSize=7))))
        else:
            from alibabacloud_live20161101 import models as live_models

            request = live_models.DescribeLiveStreamsNotifyRecordsRequest().from_map(params(PageSize=7))
            body = tea.describe_live_streams_notify_records(request).body.to_map()
        return body["TotalNum"], body["RequestId"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(40)))
    assert {total for total, _ in results} == {30}
    assert len({request_id for _, request_id in results}) == 40


def test_parameters_in_a_form_body(server: Server, domain: str, base: dt.datetime) -> None:
    """Signature V1 covers form-body parameters too (wire reference, section 3)."""
    server.import_records([make_record(base, AppName="a1"), make_record(base, AppName="a2")])
    api = params(AppName="a2")
    signed = dict(urllib.parse.parse_qsl(v1_query(server.admin, api), keep_blank_values=True))
    body_params = {k: signed.pop(k) for k in list(signed) if k in api}
    response = raw_request(
        server,
        urllib.parse.urlencode(signed, quote_via=urllib.parse.quote),
        body=urllib.parse.urlencode(body_params).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200, response.body
    assert [r["AppName"] for r in records_of(response.json())] == ["a2"]


# --------------------------------------------------------------------------------------------
# What records import takes in, the API gives back
# --------------------------------------------------------------------------------------------


def test_a_whole_response_imports_into_another_server(start_server, base: dt.datetime) -> None:
    source, target = start_server(), start_server()
    for srv in (source, target):
        srv.add_domain(DEFAULT_DOMAIN)
    records = tricky_records(base) + [make_record(base + dt.timedelta(seconds=9), EventId="e9", Attempt=2, HttpStatus=200, LatencyMs=5)]
    source.import_records(records)
    response_text = source.acs_client().do_action_with_exception(source.acs_request(params()))

    document = target.workdir / "response.json"
    document.write_bytes(response_text)
    assert target.cli("records", "import", str(document))["Imported"] == len(records)

    assert acs_records(target) == records_of(json.loads(response_text))


def test_export_then_import_round_trips(start_server, base: dt.datetime) -> None:
    source, target = start_server(), start_server()
    for srv in (source, target):
        srv.add_domain(DEFAULT_DOMAIN)
    records = [make_record(base + dt.timedelta(seconds=i), StreamName=f"x{i}") for i in range(5)] + tricky_records(base)
    source.import_records(records)

    exported = target.workdir / "export.jsonl"
    source.run("records", "export", "--domain", DEFAULT_DOMAIN, "-o", str(exported))
    assert target.cli("records", "import", str(exported))["Imported"] == len(records)

    assert acs_records(target) == acs_records(source)


def test_an_import_with_a_bad_line_imports_nothing(server: Server, domain: str, base: dt.datetime) -> None:
    path = server.workdir / "bad.jsonl"
    lines = [
        json.dumps(make_record(base)),
        json.dumps(make_record(base, DomainName="not-added.example.com")),
        json.dumps(make_record(base, NotifyTime="yesterday")),
        "{not json",
        json.dumps(make_record(base, StreamName="a\u0000b")),
        json.dumps(make_record(base, AppName="a" * 513)),
    ]
    path.write_text("\n".join(lines) + "\n")

    done = server.run("records", "import", str(path), check=False)

    assert done.returncode != 0
    for number in (2, 3, 4, 5, 6):
        assert f"line {number}" in done.stderr, done.stderr
    assert "line 5: StreamName holds a NUL character" in done.stderr, done.stderr
    assert "line 6: AppName is longer than 512 bytes" in done.stderr, done.stderr
    assert "line 1:" not in done.stderr
    assert acs_records(server) == []
