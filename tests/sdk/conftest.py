"""Fixtures for the official-SDK integration tests (``tests/sdk``).

Every test gets its own ``livenotify serve`` on a fresh data directory and a free loopback
port; nothing here talks to anything but 127.0.0.1 / ::1 (a guard enforces it for every
socket this process opens, so an SDK falling back to a public Alibaba endpoint fails fast).

Fixtures
--------
``livenotify_bin`` (session)
    Path of the binary: ``$LIVENOTIFY_BIN``, else ``target/debug/livenotify`` (built with
    ``cargo build`` when missing).
``start_server``
    Factory ``start_server(*extra_serve_args, env=None) -> Server``: one more fresh server
    (own data dir and port), stopped at teardown.
``server``
    One fresh :class:`Server` for the test. Its attributes and helpers:
    ``endpoint`` ("127.0.0.1:PORT"), ``url`` ("http://127.0.0.1:PORT/"), ``port``,
    ``data_dir``, ``admin`` (:class:`Credentials` of the account created on first start),
    ``cli(*args)`` (runs ``livenotify --data DIR *args``, returns parsed JSON stdout),
    ``run(*args)`` (same, returns the CompletedProcess), ``create_account()``,
    ``create_key(account_id)``, ``add_domain(name, account_id=None)``,
    ``new_tenant(domain)`` (account + key + domain), ``import_records(records)``,
    ``tea_client(creds=None, v1=False, **config)``, ``acs_client(creds=None)``,
    ``acs_request(params)``, ``log_text()``.
``cli``
    ``server.cli``.
``domain``
    ``"push.example1.com"``, added to the admin account of ``server``.
``import_records``
    ``server.import_records``: writes the records (dicts in the API's JSON shape) to a JSONL
    file and runs ``livenotify records import`` on it; returns the imported count.
``tea_client`` / ``tea_v1_client`` / ``acs_client``
    Factories ``f(creds=None, **kw)`` for the official SDK clients, always pointed at
    ``server`` over plain HTTP: the Tea SDK (``alibabacloud_live20161101``, signature V3),
    the Tea SDK with ``signature_algorithm='v2'`` (signature V1), and ``aliyunsdkcore``'s
    ``AcsClient`` (V1; build its requests with ``server.acs_request(params)``).
``sdk``
    Parametrized over ``tea-v3``, ``tea-v1`` and ``acs``: an :class:`SdkCaller` signed with
    the admin key. ``sdk.call(params)`` returns the response body as a dict (API names);
    ``sdk.error(params)`` expects the call to fail and returns an :class:`SdkError`;
    ``sdk.as_(creds, security_token=None)`` is the same flavour with other credentials;
    ``sdk.freeze(monkeypatch, timestamp=..., nonce=...)`` fixes the SDK's own timestamp
    and nonce generators.

Module-level helpers (``from .conftest import ...``): :func:`utc`, :func:`now_utc`,
:func:`make_record`, :func:`sign_v1`, :func:`v1_query`, :func:`raw_request`,
:data:`ACTION`, :data:`API_VERSION`, :data:`SEED_FIELDS`.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION = "DescribeLiveStreamsNotifyRecords"
API_VERSION = "2016-11-01"
SEED_FIELDS = (
    "NotifyType",
    "Description",
    "StreamName",
    "NotifyTime",
    "DomainName",
    "NotifyContent",
    "NotifyUrl",
    "NotifyResult",
    "AppName",
    "NotifyResponse",
    "NotifyHeader",
)
EXTENSION_FIELDS = ("EventId", "Attempt", "HttpStatus", "LatencyMs")
DEFAULT_DOMAIN = "push.example1.com"
SDK_FLAVOURS = ("tea-v3", "tea-v1", "acs")

# Nothing in these tests may reach a proxy or a cloud account: drop what could send SDK
# traffic elsewhere or lend it real credentials.
for _name in list(os.environ):
    if _name.lower() in {"http_proxy", "https_proxy", "all_proxy"} or _name.startswith(
        ("ALIBABA_CLOUD_", "ALICLOUD_", "LIVENOTIFY_DATA", "LIVENOTIFY_LISTEN", "LIVENOTIFY_CONFIG")
    ):
        del os.environ[_name]
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"


# --------------------------------------------------------------------------------------------
# Loopback-only guard
# --------------------------------------------------------------------------------------------

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: Any) -> bool:
    """Loopback, or the unspecified address (this host, as used for binding)."""
    if not isinstance(host, str):
        return False
    if host == "" or host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise ConnectionRefusedError(f"tests/sdk may only connect to loopback, not {address!r}")


def _guarded_connect(self, address):  # type: ignore[no-untyped-def]
    _check_address(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):  # type: ignore[no-untyped-def]
    _check_address(self, address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if host is not None and not _is_loopback(host if isinstance(host, str) else host.decode()):
        raise socket.gaierror(socket.EAI_NONAME, f"tests/sdk resolve only loopback names, not {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo


# --------------------------------------------------------------------------------------------
# Time and record helpers
# --------------------------------------------------------------------------------------------


def now_utc() -> dt.datetime:
    """The current UTC time, whole seconds."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def utc(moment: dt.datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ``, the API's time format."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_record(notify_time: dt.datetime | str, domain: str = DEFAULT_DOMAIN, **fields: Any) -> dict:
    """A notify record in the API's JSON shape with every seed field; ``fields`` override."""
    record = {
        "NotifyType": "publish",
        "Description": "success",
        "StreamName": "stream",
        "NotifyTime": notify_time if isinstance(notify_time, str) else utc(notify_time),
        "DomainName": domain,
        "NotifyContent": json.dumps({"action": "publish", "app": domain, "appname": "app", "id": "stream"}),
        "NotifyUrl": "http://127.0.0.1:9/callbacks",
        "NotifyResult": "success",
        "AppName": "app",
        "NotifyResponse": '{"Code":0,"Msg":"Success"}',
        "NotifyHeader": "Host: 127.0.0.1:9\nUser-Agent: livenotify\nContent-Type: application/json",
    }
    record.update(fields)
    return record


# --------------------------------------------------------------------------------------------
# Hand-made signature V1 requests (wire reference, section 3)
# --------------------------------------------------------------------------------------------


def _pe(text: str) -> str:
    """RFC 3986 percent-encoding of UTF-8, as both SDKs canonicalize."""
    return urllib.parse.quote(text, safe="~")


def sign_v1(params: dict[str, str], secret: str, method: str = "POST") -> tuple[str, str]:
    """Returns (Signature, StringToSign) of HMAC-SHA1 signature V1 over ``params``."""
    canonical = "&".join(f"{_pe(k)}={_pe(v)}" for k, v in sorted(params.items()) if k != "Signature")
    string_to_sign = f"{method}&{_pe('/')}&{_pe(canonical)}"
    digest = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode(), string_to_sign


def v1_query(
    creds: "Credentials",
    api_params: dict[str, Any],
    *,
    method: str = "POST",
    action: str = ACTION,
    version: str = API_VERSION,
    fmt: str | None = "JSON",
    timestamp: str | None = None,
    nonce: str | None = None,
) -> str:
    """A complete, signed V1 query string (``A=1&B=2``), the way aliyunsdkcore encodes it."""
    params = {k: str(v) for k, v in api_params.items() if v is not None}
    params.update(
        {
            "Action": action,
            "Version": version,
            "AccessKeyId": creds.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "Timestamp": timestamp or utc(now_utc()),
        }
    )
    if fmt is not None:
        params["Format"] = fmt
    params["Signature"], _ = sign_v1(params, creds.access_key_secret, method)
    return "&".join(f"{_pe(k)}={_pe(v)}" for k, v in params.items())


@dataclasses.dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(server: "Server", query: str, method: str = "POST", body: bytes = b"", headers: dict | None = None) -> RawResponse:
    """Sends exactly ``METHOD /?query`` to the server (no proxies, no retries)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, "/?" + query if query else "/", body=body, headers=headers or {})
        response = conn.getresponse()
        return RawResponse(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read(),
        )
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# The server under test
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Credentials:
    account_id: str
    access_key_id: str
    access_key_secret: str


@dataclasses.dataclass(frozen=True)
class Tenant:
    creds: Credentials
    domain: str


class CliError(AssertionError):
    pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env(extra: dict | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVENOTIFY_")}
    env["NO_COLOR"] = "1"
    env.setdefault("LIVENOTIFY_LOG", "info")
    if extra:
        env.update(extra)
    return env


class Server:
    """A running ``livenotify serve`` on its own data directory."""

    def __init__(self, binary: Path, workdir: Path, extra_args: Iterable[str] = (), env: dict | None = None):
        self.binary = binary
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log_path = workdir / "server.log"
        self.extra_args = list(extra_args)
        self.env = _child_env(env)
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._start()
        creds = json.loads((self.data_dir / "admin-credentials.json").read_text())
        self.admin = Credentials(creds["AccountId"], creds["AccessKeyId"], creds["AccessKeySecret"])
        self._import_seq = 0

    # ---- lifecycle -----------------------------------------------------------------------

    def _start(self) -> None:
        last_error = ""
        for _attempt in range(3):
            self.port = _free_port()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    [str(self.binary), "--data", str(self.data_dir), "serve", "--listen", f"127.0.0.1:{self.port}", *self.extra_args],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=self.workdir,
                )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if self._accepts_connections() and (self.data_dir / "admin-credentials.json").exists():
                    return
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.stop()
                last_error = "did not accept connections within 30 s"
                break
            last_error = f"exited with status {self.proc.returncode}"
            if "cannot listen" not in self.log_text():
                break  # not a port race: retrying will not help
        raise RuntimeError(f"livenotify serve {last_error}; log:\n{self.log_text()}")

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 10 s. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"

    # ---- addresses -----------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # ---- the CLI -------------------------------------------------------------------------

    def run(self, *args: str, check: bool = True, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """``livenotify --data DIR *args``; raises CliError on a non-zero exit when ``check``."""
        cmd = [str(self.binary), "--data", str(self.data_dir), *args]
        done = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=_child_env(env),
            cwd=self.workdir,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise CliError(f"{cmd} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
        return done

    def cli(self, *args: str, env: dict | None = None) -> Any:
        """Runs an admin/records command and returns its stdout parsed as JSON."""
        done = self.run(*args, env=env)
        try:
            return json.loads(done.stdout)
        except json.JSONDecodeError as e:
            raise CliError(f"livenotify {' '.join(args)} printed no JSON ({e}):\n{done.stdout}\n{done.stderr}") from e

    def create_account(self) -> str:
        return self.cli("admin", "account", "create")["AccountId"]

    def create_key(self, account_id: str) -> Credentials:
        key = self.cli("admin", "key", "create", "--account", account_id)
        return Credentials(key["AccountId"], key["AccessKeyId"], key["AccessKeySecret"])

    def add_domain(self, name: str, account_id: str | None = None) -> dict:
        return self.cli("admin", "domain", "add", name, "--account", account_id or self.admin.account_id)

    def new_tenant(self, domain: str) -> Tenant:
        """Another account, with its own key and ingest domain."""
        account = self.create_account()
        creds = self.create_key(account)
        self.add_domain(domain, account)
        return Tenant(creds, domain)

    def import_records(self, records: Iterable[dict]) -> int:
        """Imports records (API JSON shape) with ``livenotify records import``, one per line."""
        self._import_seq += 1
        path = self.workdir / f"import-{self._import_seq}.jsonl"
        with open(path, "w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return int(self.cli("records", "import", str(path))["Imported"])

    # ---- SDK clients ---------------------------------------------------------------------

    def tea_client(self, creds: Credentials | None = None, v1: bool = False, **config: Any):
        """``alibabacloud_live20161101`` Client at this server (V3, or V1 with ``v1=True``)."""
        from alibabacloud_live20161101.client import Client
        from alibabacloud_tea_openapi import models as open_api_models

        creds = creds or self.admin
        settings = dict(
            access_key_id=creds.access_key_id,
            access_key_secret=creds.access_key_secret,
            endpoint=self.endpoint,
            protocol="http",
            region_id="cn-shanghai",
        )
        if v1:
            settings["signature_algorithm"] = "v2"
        settings.update(config)
        assert _is_loopback(str(settings["endpoint"]).rsplit(":", 1)[0])
        return Client(open_api_models.Config(**settings))

    def acs_client(self, creds: Credentials | None = None, security_token: str | None = None):
        """aliyunsdkcore ``AcsClient``; the endpoint is set on each request (``acs_request``)."""
        from aliyunsdkcore.client import AcsClient

        creds = creds or self.admin
        if security_token is not None:
            from aliyunsdkcore.auth.credentials import StsTokenCredential

            return AcsClient(region_id="cn-hangzhou", credential=StsTokenCredential(creds.access_key_id, creds.access_key_secret, security_token))
        return AcsClient(creds.access_key_id, creds.access_key_secret, "cn-hangzhou")

    def acs_request(self, params: dict[str, Any] | None = None):
        """A ``DescribeLiveStreamsNotifyRecordsRequest`` aimed at this server over HTTP, with
        ``params`` (API names) set through the request class's own setters."""
        from aliyunsdklive.request.v20161101.DescribeLiveStreamsNotifyRecordsRequest import (
            DescribeLiveStreamsNotifyRecordsRequest,
        )

        request = DescribeLiveStreamsNotifyRecordsRequest()
        request.set_endpoint(self.endpoint)
        request.set_protocol_type("http")
        for name, value in (params or {}).items():
            setter = getattr(request, f"set_{name}", None)
            if setter is not None:
                setter(value)
            else:
                request.add_query_param(name, value)
        return request


# --------------------------------------------------------------------------------------------
# One call interface over the three SDK flavours
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SdkError:
    """An error as an SDK surfaced it."""

    exc: BaseException
    code: str | None
    status: int | None
    request_id: str | None
    message: str | None
    data: dict | None  # the error body, where the SDK keeps it (Tea)
    header_request_id: str | None  # x-acs-request-id on the wire


class WireTap:
    """Remembers the last HTTP response the SDKs received (status and headers)."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.request_query: dict | None = None
        self.request_headers: dict | None = None

    def record(self, status: int | None, headers: dict | None, query: dict | None = None, request_headers: dict | None = None) -> None:
        self.status = status
        self.headers = {str(k).lower(): v for k, v in (headers or {}).items()}
        self.request_query = query
        self.request_headers = request_headers


class SdkCaller:
    """Calls DescribeLiveStreamsNotifyRecords (or another action) through one SDK flavour."""

    name: str

    def __init__(self, server: Server, tap: WireTap, creds: Credentials | None = None, security_token: str | None = None):
        self.server = server
        self.tap = tap
        self.creds = creds or server.admin
        self.security_token = security_token

    def as_(self, creds: Credentials, security_token: str | None = None) -> "SdkCaller":
        return type(self)(self.server, self.tap, creds, security_token)

    def call(self, params: dict[str, Any], *, action: str = ACTION, version: str = API_VERSION) -> dict:
        raise NotImplementedError

    def error(self, params: dict[str, Any], *, action: str = ACTION, version: str = API_VERSION) -> SdkError:
        raise NotImplementedError

    def freeze(self, monkeypatch: pytest.MonkeyPatch, *, timestamp: str | None = None, nonce: str | None = None) -> None:
        raise NotImplementedError


class TeaCaller(SdkCaller):
    v1 = False

    @property
    def name(self) -> str:  # type: ignore[override]
        return "tea-v1" if self.v1 else "tea-v3"

    def client(self):
        config = {"security_token": self.security_token} if self.security_token else {}
        return self.server.tea_client(self.creds, v1=self.v1, **config)

    def response(self, params: dict[str, Any]):
        """The typed ``DescribeLiveStreamsNotifyRecordsResponse``."""
        from alibabacloud_live20161101 import models as live_models

        request = live_models.DescribeLiveStreamsNotifyRecordsRequest().from_map(dict(params))
        return self.client().describe_live_streams_notify_records(request)

    def _invoke(self, params: dict[str, Any], action: str, version: str) -> dict:
        if action == ACTION and version == API_VERSION:
            return self.response(params).body.to_map()
        from alibabacloud_tea_openapi import models as open_api_models
        from alibabacloud_tea_openapi.utils_models import Params
        from darabonba.runtime import RuntimeOptions

        api = Params(action=action, version=version, protocol="HTTP", pathname="/", method="POST",
                     auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
        query = {k: str(v) for k, v in params.items() if v is not None}
        return self.client().call_api(api, open_api_models.OpenApiRequest(query=query), RuntimeOptions())["body"]

    def call(self, params, *, action=ACTION, version=API_VERSION):
        return self._invoke(params, action, version)

    def error(self, params, *, action=ACTION, version=API_VERSION):
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

        try:
            body = self._invoke(params, action, version)
        except AlibabaCloudException as e:
            return SdkError(e, e.code, e.status_code, e.request_id, e.message, e.data,
                            self.tap.headers.get("x-acs-request-id"))
        pytest.fail(f"{self.name}: expected an error, got {body!r}")

    def freeze(self, monkeypatch, *, timestamp=None, nonce=None):
        from alibabacloud_tea_openapi.utils import Utils

        if timestamp is not None:
            monkeypatch.setattr(Utils, "get_timestamp", staticmethod(lambda: timestamp))
        if nonce is not None:
            monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: nonce))


class TeaV1Caller(TeaCaller):
    v1 = True


class AcsCaller(SdkCaller):
    name = "acs"

    def client(self):
        client = self.server.acs_client(self.creds, self.security_token)
        make_http_response = client._make_http_response
        handle_single_request = client._handle_single_request
        tap = self.tap
        sent: dict[str, Any] = {}

        def tapped_make(*args, **kwargs):  # type: ignore[no-untyped-def]
            http_response = make_http_response(*args, **kwargs)
            query = urllib.parse.urlsplit(http_response.get_url()).query
            sent["query"] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            sent["headers"] = dict(http_response.get_headers())
            return http_response

        def tapped_handle(*args, **kwargs):  # type: ignore[no-untyped-def]
            status, headers, body, exception = handle_single_request(*args, **kwargs)
            tap.record(status, dict(headers or {}), sent.get("query"), sent.get("headers"))
            return status, headers, body, exception

        client._make_http_response = tapped_make
        client._handle_single_request = tapped_handle
        return client

    def request(self, params: dict[str, Any], action: str = ACTION, version: str = API_VERSION):
        request = self.server.acs_request(params)
        if action != ACTION:
            request.set_action_name(action)
        if version != API_VERSION:
            request.set_version(version)
        return request

    def call(self, params, *, action=ACTION, version=API_VERSION):
        return json.loads(self.client().do_action_with_exception(self.request(params, action, version)))

    def error(self, params, *, action=ACTION, version=API_VERSION):
        from aliyunsdkcore.acs_exception.exceptions import ServerException

        try:
            body = self.client().do_action_with_exception(self.request(params, action, version))
        except ServerException as e:
            return SdkError(e, e.get_error_code(), e.get_http_status(), e.get_request_id(), e.get_error_msg(),
                            None, self.tap.headers.get("x-acs-request-id"))
        pytest.fail(f"acs: expected an error, got {body!r}")

    def freeze(self, monkeypatch, *, timestamp=None, nonce=None):
        from aliyunsdkcore.utils import parameter_helper

        if timestamp is not None:
            monkeypatch.setattr(parameter_helper, "get_iso_8061_date", lambda: timestamp)
        if nonce is not None:
            monkeypatch.setattr(parameter_helper, "get_uuid", lambda: nonce)


_CALLERS: dict[str, type[SdkCaller]] = {"tea-v3": TeaCaller, "tea-v1": TeaV1Caller, "acs": AcsCaller}


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def livenotify_bin() -> Path:
    configured = os.environ.get("LIVENOTIFY_BIN")
    if configured:
        path = Path(configured)
        if not path.is_file():
            pytest.fail(f"LIVENOTIFY_BIN={configured} is not a file")
        return path
    path = REPO_ROOT / "target" / "debug" / "livenotify"
    if not path.is_file():
        subprocess.run(["cargo", "build", "--bin", "livenotify"], cwd=REPO_ROOT, check=True, stdin=subprocess.DEVNULL)
    return path


@pytest.fixture(scope="session", autouse=True)
def _sdks_present() -> None:
    """The SDKs are a hard requirement; without them, skip locally but fail in CI."""
    missing = []
    for module in ("alibabacloud_live20161101", "alibabacloud_tea_openapi", "aliyunsdkcore", "aliyunsdklive"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        message = f"official SDK modules missing: {missing} (run scripts/install-test-deps.sh)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in getattr(item, "_livenotify_servers", []):
            report.sections.append((f"livenotify serve log ({server.endpoint})", server.log_text()))


@pytest.fixture
def start_server(livenotify_bin: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    servers: list[Server] = []
    request.node._livenotify_servers = servers

    def start(*extra_args: str, env: dict | None = None) -> Server:
        server = Server(livenotify_bin, tmp_path_factory.mktemp("livenotify"), extra_args, env)
        servers.append(server)
        return server

    yield start
    died = []
    for server in servers:
        was_running = server.is_running()
        server.stop()
        if not was_running:
            died.append(server)
    if died:
        logs = "\n".join(f"--- {s.endpoint} (exit {s.proc.returncode}) ---\n{s.log_text()}" for s in died if s.proc)
        pytest.fail(f"livenotify serve exited during the test:\n{logs}")


@pytest.fixture
def server(start_server) -> Server:
    return start_server()


@pytest.fixture
def cli(server: Server) -> Callable[..., Any]:
    return server.cli


@pytest.fixture
def domain(server: Server) -> str:
    server.add_domain(DEFAULT_DOMAIN)
    return DEFAULT_DOMAIN


@pytest.fixture
def import_records(server: Server) -> Callable[[Iterable[dict]], int]:
    return server.import_records


@pytest.fixture
def tea_client(server: Server):
    return lambda creds=None, **config: server.tea_client(creds, **config)


@pytest.fixture
def tea_v1_client(server: Server):
    return lambda creds=None, **config: server.tea_client(creds, v1=True, **config)


@pytest.fixture
def acs_client(server: Server):
    return server.acs_client


@pytest.fixture
def wire_tap(monkeypatch: pytest.MonkeyPatch) -> WireTap:
    """Records the last response the SDKs got (Tea: through DaraCore.do_action)."""
    from darabonba.core import DaraCore

    tap = WireTap()
    original = DaraCore.do_action

    def tapped(request, runtime_option=None):  # type: ignore[no-untyped-def]
        response = original(request, runtime_option)
        tap.record(response.status_code, dict(response.headers or {}), dict(request.query or {}), dict(request.headers or {}))
        return response

    monkeypatch.setattr(DaraCore, "do_action", staticmethod(tapped))
    return tap


@pytest.fixture(params=SDK_FLAVOURS)
def sdk(request: pytest.FixtureRequest, server: Server, wire_tap: WireTap) -> SdkCaller:
    return _CALLERS[request.param](server, wire_tap)
