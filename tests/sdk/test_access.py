"""Access control through the official Alibaba Cloud Python SDKs: RAM users and their
policies, tenant isolation, per-user throttling (``Throttling.User`` with
``x-acs-retry-after``, which the Tea SDK raises as ``ThrottlingException``), replay and STS
refusals, and one log line per denied request.

RAM users, keys and policies are made with ``livenotify admin ram ...`` on the server's data
directory. Exact throttle counts need the injected clock and live in ``tests/api/access.rs``;
here the clock is real, so the burst test asserts only what holds at any speed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from .conftest import (
    DEFAULT_DOMAIN,
    Credentials,
    SdkCaller,
    Server,
    TeaCaller,
    make_record,
    now_utc,
    raw_request,
    utc,
    v1_query,
)

DOMAIN_B = "b.example1.com"
SET = "SetLiveStreamsNotifyUrlConfig"


# --------------------------------------------------------------------------------------------
# Helpers and fixtures of this file
# --------------------------------------------------------------------------------------------


def params(domain: str = DEFAULT_DOMAIN) -> dict[str, Any]:
    now = now_utc()
    return {"DomainName": domain, "StartTime": utc(now - dt.timedelta(hours=6)), "EndTime": utc(now)}


def set_params(domain: str = DEFAULT_DOMAIN) -> dict[str, Any]:
    return {"DomainName": domain, "NotifyUrl": "http://127.0.0.1:9/callbacks"}


def statement(effect: str, action: Any, resource: Any) -> dict:
    return {"Effect": effect, "Action": action, "Resource": resource}


def policy(*statements: dict) -> dict:
    return {"Version": "1", "Statement": list(statements)}


def domain_arn(server: Server, domain: str) -> str:
    return f"acs:live:*:{server.admin.account_id}:domain/{domain}"


class Ram:
    """Creates RAM users of the server's admin account through the admin CLI."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.count = 0

    def user(self, *policies: dict, account: str | None = None) -> tuple[str, Credentials]:
        """A RAM user with ``policies`` attached and one key; returns (UserId, key)."""
        self.count += 1
        account = account or self.server.admin.account_id
        user = self.server.cli("admin", "ram", "user", "create", "--account", account, "--name", f"user{self.count}")
        assert user["AccountId"] == account and user["UserName"] == f"user{self.count}"
        for n, document in enumerate(policies):
            self.attach(user["UserId"], document, f"policy{n}")
        return user["UserId"], self.key(user["UserId"])

    def attach(self, user_id: str, document: Any, name: str) -> Any:
        path = self.server.workdir / f"{user_id}-{name}.json"
        path.write_text(document if isinstance(document, str) else json.dumps(document))
        return self.server.cli("admin", "ram", "policy", "attach", "--user", user_id, "--file", str(path), "--name", name)

    def key(self, user_id: str) -> Credentials:
        key = self.server.cli("admin", "ram", "key", "create", "--user", user_id)
        assert key["UserId"] == user_id
        return Credentials(key["AccountId"], key["AccessKeyId"], key["AccessKeySecret"])


@pytest.fixture
def ram(server: Server) -> Ram:
    return Ram(server)


@pytest.fixture
def two_domains(server: Server) -> None:
    """push.example1.com with three records, and an empty b.example1.com, both the admin's."""
    server.add_domain(DEFAULT_DOMAIN)
    server.add_domain(DOMAIN_B)
    base = now_utc() - dt.timedelta(hours=1)
    server.import_records(make_record(base + dt.timedelta(seconds=i), StreamName=f"s{i}") for i in range(3))


def assert_code(sdk: SdkCaller, error: Any, code: str, status: int) -> None:
    assert (error.code, error.status) == (code, status), f"{sdk.name}: {error.exc!r}"
    if isinstance(sdk, TeaCaller):
        from alibabacloud_tea_openapi.exceptions import ClientException

        assert type(error.exc) is ClientException, f"{sdk.name}: {type(error.exc).__name__}"


# --------------------------------------------------------------------------------------------
# RAM policies
# --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("two_domains")
def test_ram_user_allowed_one_action_on_one_domain(sdk: SdkCaller, server: Server, ram: Ram) -> None:
    _, key = ram.user(policy(statement("Allow", "live:DescribeLiveStreamsNotifyRecords", domain_arn(server, DEFAULT_DOMAIN))))
    as_user = sdk.as_(key)

    body = as_user.call(params())
    assert body["TotalNum"] == 3
    assert len(body["NotifyRecordsInfo"]["LiveStreamNotifyRecordsInfo"]) == 3
    assert_code(sdk, as_user.error(set_params(), action=SET), "Forbidden.RAM", 403)
    assert_code(sdk, as_user.error(params(DOMAIN_B)), "Forbidden.RAM", 403)
    # The account's own key is not limited by its users' policies.
    assert sdk.call(params(DOMAIN_B))["TotalNum"] == 0


@pytest.mark.usefixtures("two_domains")
def test_a_deny_statement_overrides_an_allow(sdk: SdkCaller, server: Server, ram: Ram) -> None:
    _, key = ram.user(
        policy(statement("Allow", "live:*", "*")),
        policy(statement("Deny", ["live:DescribeLiveStreamsNotifyRecords"], domain_arn(server, DOMAIN_B))),
    )
    as_user = sdk.as_(key)
    assert as_user.call(params())["TotalNum"] == 3
    assert_code(sdk, as_user.error(params(DOMAIN_B)), "Forbidden.RAM", 403)


@pytest.mark.usefixtures("two_domains")
def test_wildcards_in_actions_and_resources(server: Server, ram: Ram) -> None:
    from alibabacloud_live20161101 import models as live_models

    arn = f"acs:live:*:{server.admin.account_id}:domain/push.*"
    _, key = ram.user(policy(statement("Allow", ["live:describe*", "LIVE:SetLiveStreams?otifyUrlConfig"], arn)))
    tea = server.tea_client(key)
    request = live_models.SetLiveStreamsNotifyUrlConfigRequest(domain_name=DEFAULT_DOMAIN, notify_url="http://127.0.0.1:9/cb")
    tea.set_live_streams_notify_url_config(request)
    described = tea.describe_live_streams_notify_url_config(
        live_models.DescribeLiveStreamsNotifyUrlConfigRequest(domain_name=DEFAULT_DOMAIN)
    )
    assert described.body.live_streams_notify_config.notify_url == "http://127.0.0.1:9/cb"


def test_malformed_policies_are_refused_with_the_reason(server: Server, ram: Ram) -> None:
    user_id, _ = ram.user()
    cases = [
        ('{"Version": "1",', "not valid JSON"),
        (json.dumps({"Version": "1"}), "Statement is missing"),
        (json.dumps(policy(statement("allow", "live:*", "*"))), 'Effect must be "Allow" or "Deny"'),
        (json.dumps(policy(statement("Allow", "DescribeLiveStreamsNotifyRecords", "*"))), "service prefix"),
    ]
    for n, (text, reason) in enumerate(cases):
        path = server.workdir / f"bad{n}.json"
        path.write_text(text)
        done = server.run("admin", "ram", "policy", "attach", "--user", user_id, "--file", str(path), check=False)
        assert done.returncode != 0 and reason in done.stderr, done.stderr
    assert server.cli("admin", "ram", "policy", "list", "--user", user_id) == []


def test_the_key_list_names_the_ram_user_each_key_signs_for(server: Server, ram: Ram) -> None:
    user_id, user_key = ram.user()
    account = server.admin.account_id
    listed = {key["AccessKeyId"]: key for key in server.cli("admin", "key", "list", "--account", account)}
    assert listed[user_key.access_key_id]["RamUserId"] == user_id
    assert listed[server.admin.access_key_id]["RamUserId"] is None
    assert all("AccessKeySecret" not in key for key in listed.values())


# --------------------------------------------------------------------------------------------
# Tenant isolation
# --------------------------------------------------------------------------------------------


def test_another_accounts_domain_answers_like_a_missing_one(sdk: SdkCaller, server: Server, ram: Ram) -> None:
    server.add_domain(DEFAULT_DOMAIN)
    stranger = server.new_tenant("push.stranger.example.com").creds
    _, stranger_ram = ram.user(policy(statement("Allow", "*", "*")), account=stranger.account_id)
    for creds in (stranger, stranger_ram):
        foreign = sdk.as_(creds).error(params(DEFAULT_DOMAIN))
        missing = sdk.as_(creds).error(params("missing.example1.com"))
        assert_code(sdk, foreign, "InvalidDomain.NotFound", 404)
        assert_code(sdk, missing, "InvalidDomain.NotFound", 404)
        if foreign.data is not None:
            strip = lambda d: {k: v for k, v in d.items() if k != "RequestId"}  # noqa: E731
            assert strip(foreign.data) == strip(missing.data)
        else:
            assert foreign.message == missing.message


# --------------------------------------------------------------------------------------------
# Throttling
# --------------------------------------------------------------------------------------------


def burst(server: Server, creds: Credentials, n: int, call: str = "records") -> tuple[int, list[Any]]:
    """``n`` calls from 8 threads, as fast as they go; returns (successes, throttling errors).
    Any other outcome fails the test.

    With a real clock the counts depend on speed: a budget of ``r`` a second with a burst of
    ``r`` throttles part of ``n`` calls only if they all arrive within ``(n - r) / r`` seconds
    (0.5 s for 150 record queries, about 9 s for 150 configuration writes at 15 a second).
    Exact counts are asserted on the manual clock in ``tests/api/access.rs``."""
    from alibabacloud_live20161101 import models as live_models
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    client = server.tea_client(creds)
    # Warm the client's HTTP session on another action, so the burst spends no time on it.
    client.describe_live_streams_notify_url_config(
        live_models.DescribeLiveStreamsNotifyUrlConfigRequest(domain_name=DEFAULT_DOMAIN)
    )
    records = live_models.DescribeLiveStreamsNotifyRecordsRequest().from_map(params())
    config = live_models.SetLiveStreamsNotifyUrlConfigRequest(domain_name=DEFAULT_DOMAIN, notify_url="http://127.0.0.1:9/cb")

    def one(_: int) -> Any:
        try:
            if call == "records":
                client.describe_live_streams_notify_records(records)
            else:
                client.set_live_streams_notify_url_config(config)
            return None
        except ThrottlingException as e:
            return e

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(one, range(n)))
    elapsed = time.monotonic() - started
    throttled = [e for e in outcomes if e is not None]
    if not throttled:
        print(f"burst of {n} {call} calls took {elapsed:.3f} s and none was throttled")
    return n - len(throttled), throttled


def assert_throttled(errors: list[Any]) -> None:
    assert errors, "no call of the burst was throttled (see the burst's duration above)"
    for e in errors:
        assert (e.code, e.status_code) == ("Throttling.User", 400), repr(e)
        assert e.retry_after is not None and e.retry_after >= 1, repr(e)
        assert e.data["Message"] == "Request was denied due to user flow control."


def test_a_burst_of_150_raises_throttling_exceptions(start_server) -> None:
    # A limit of 10 a second (set with --rate-limit) throttles part of a 150-call burst on any
    # machine that sends it within 14 s; the seed's 100 a second is counted exactly on the
    # manual clock in tests/api/access.rs.
    server = start_server("--rate-limit", "DescribeLiveStreamsNotifyRecords=10")
    server.add_domain(DEFAULT_DOMAIN)
    successes, throttled = burst(server, server.admin, 150)
    assert successes + len(throttled) == 150
    assert_throttled(throttled)


def test_config_writes_are_throttled_lower(server: Server) -> None:
    server.add_domain(DEFAULT_DOMAIN)
    successes, throttled = burst(server, server.admin, 150, call="set")
    assert successes >= 15
    assert_throttled(throttled)


def test_keys_of_one_ram_user_share_its_budget_and_others_keep_theirs(server: Server, ram: Ram) -> None:
    server.add_domain(DEFAULT_DOMAIN)
    user_id, first = ram.user(policy(statement("Allow", "live:*", "*")))
    second = ram.key(user_id)
    # Spend the user's budget with one key: the other key of the same user is throttled too.
    _, throttled = burst(server, first, 150, call="set")
    assert_throttled(throttled)
    _, throttled = burst(server, second, 10, call="set")
    assert throttled, "the second key spends the same budget"
    # The account's own key is another user: its budget is intact.
    successes, _ = burst(server, server.admin, 10, call="set")
    assert successes == 10


# --------------------------------------------------------------------------------------------
# Replay, STS, logging
# --------------------------------------------------------------------------------------------


def test_a_replayed_ram_request_is_rejected(sdk: SdkCaller, server: Server, ram: Ram, monkeypatch: pytest.MonkeyPatch) -> None:
    server.add_domain(DEFAULT_DOMAIN)
    _, key = ram.user(policy(statement("Allow", "live:*", "*")))
    sdk.freeze(monkeypatch, nonce="replayed-" + key.access_key_id)
    assert sdk.as_(key).call(params())["TotalNum"] == 0
    assert_code(sdk, sdk.as_(key).error(params()), "SignatureNonceUsed", 400)


def test_sts_tokens_are_refused_for_ram_keys_too(sdk: SdkCaller, server: Server, ram: Ram) -> None:
    server.add_domain(DEFAULT_DOMAIN)
    _, key = ram.user(policy(statement("Allow", "live:*", "*")))
    error = sdk.as_(key, security_token="sts-token").error(params())
    assert_code(sdk, error, "InvalidSecurityToken.NotSupported", 400)
    assert "not supported" in (error.message or "")


@pytest.mark.usefixtures("two_domains")
def test_each_denied_request_is_logged_once_without_secrets(server: Server, ram: Ram) -> None:
    from alibabacloud_tea_openapi.exceptions import ClientException

    _, key = ram.user(policy(statement("Allow", "live:DescribeLiveStreamsNotifyRecords", domain_arn(server, DEFAULT_DOMAIN))))
    from alibabacloud_live20161101 import models as live_models

    request = live_models.DescribeLiveStreamsNotifyRecordsRequest().from_map(params(DOMAIN_B))
    for _ in range(3):
        with pytest.raises(ClientException):
            server.tea_client(key).describe_live_streams_notify_records(request)
    wrong = Credentials(key.account_id, key.access_key_id, "not-the-secret")
    with pytest.raises(ClientException):
        server.tea_client(wrong).describe_live_streams_notify_records(request)

    # A claim that does not parse still names its key in the log.
    bad_method = v1_query(key, params(DOMAIN_B)).replace("SignatureMethod=HMAC-SHA1", "SignatureMethod=HMAC-MD5")
    assert raw_request(server, bad_method).status == 400

    log = server.log_text()
    denied = [line for line in log.splitlines() if "api request denied" in line and key.access_key_id in line]
    assert len([line for line in denied if "InvalidSignatureMethod" in line]) == 1, "\n".join(denied)
    assert len([line for line in denied if "Forbidden.RAM" in line]) == 3, "\n".join(denied)
    assert len([line for line in denied if "SignatureDoesNotMatch" in line]) == 1, "\n".join(denied)
    assert all(re.search(r"DescribeLiveStreamsNotifyRecords", line) for line in denied)
    assert key.access_key_secret not in log
    assert server.admin.access_key_secret not in log
