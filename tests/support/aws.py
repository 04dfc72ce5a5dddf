"""AWS test infrastructure: moto in server mode, and a fault-injecting proxy in front of it.

Everything listens on 127.0.0.1; nothing here ever talks to real AWS.

How moto (5.2.1) separates accounts
-----------------------------------
moto keeps one backend per (account id, region). For each request it picks the
account in this order (``moto/core/responses.py: get_current_account``):

1. the ``MOTO_ACCOUNT_ID`` environment variable of the *server* process, if set
   (it then overrides everything: keep it unset, the fixtures delete it);
2. an ``x-moto-account-id`` request header;
3. the access key id of the SigV4 ``Authorization`` header, looked up among the
   access keys moto's IAM knows in every account (``iam/models.py:
   get_account_id_from``); an unknown key (such as "testing") means the default
   account **123456789012**.

STS ``AssumeRole`` on ``arn:aws:iam::210987654321:role/NAME`` creates a
temporary access key in IAM of account 210987654321 (the account id is taken
from the role ARN). Later requests signed with that key are served from that
account: verified over ThreadedMotoServer (``tests/integration/test_aws_support.py``)
- ``run_instances`` with the assumed credentials, then ``describe_instances`` with
the static "testing" keys does not see them, and ``sts get_caller_identity``
answers 210987654321 with an ``assumed-role/NAME/SESSION`` ARN.

The role does **not** need to exist in IAM (the STS backend never looks it up;
its docstring says so). No signature or policy is checked unless moto's
``INITIAL_NO_AUTH_ACTION_COUNT`` is set.

Pitfall: ``/moto-api/reset`` wipes IAM too, so credentials assumed before a
reset become unknown keys and silently land in the default account again.
Assume roles *after* resetting.

Faults
------
:class:`FaultProxy` forwards to moto and answers matching requests itself with
an error body in the service's own wire protocol, so botocore raises
``ClientError`` with the chosen code. Preset kinds (``ACCESS_DENIED``,
``THROTTLING``, ``OPT_IN_REQUIRED``, ``EXPIRED_TOKEN``, ``INTERNAL_ERROR``) map to
the status and code each service really uses; see :data:`PRESETS`.

botocore 1.43 speaks these protocols to the services we use: ec2 ("ec2" query
XML), rds / elbv2 / sts / iam ("query"), cloudwatch (awsJson1_0 with
``awsQueryCompatible``: JSON ``__type`` plus the ``x-amzn-query-error: Code;Sender``
header, so the ClientError code is the old query code such as "Throttling"),
s3 ("rest-xml") and lambda ("rest-json"). S3 HEAD requests have no error body:
botocore then reports the HTTP status ("403") as the code.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from urllib.request import Request, urlopen

from tui.demo.aws_fleet import silence_werkzeug

# Read by moto when an account's EC2 backend is first created; without it
# describe_snapshots and describe_images return ~1,300 built-in entries.
os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"

DEFAULT_ACCOUNT = "123456789012"
SECOND_ACCOUNT = "210987654321"
TEST_KEY = "testing"

# Credential-scope (signing) names to boto3 client names, where they differ.
SIGNING_TO_CLIENT = {"elasticloadbalancing": "elbv2", "monitoring": "cloudwatch"}


def free_port() -> int:
    """A port that was free a moment ago (for servers that cannot bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unused_local_url() -> str:
    """http://127.0.0.1:PORT of a port nobody listens on: an "endpoint down" for tests.

    The port comes from the kernel and is released at once; connecting to it is
    refused unless something else grabs it in between, which is rare enough.
    """
    return f"http://127.0.0.1:{free_port()}"


class MotoServer:
    """ThreadedMotoServer on 127.0.0.1 and a kernel-chosen port.

    ThreadedMotoServer binds port 0 fine; ``get_host_and_port()`` reads the bound
    port from the werkzeug server's ``server_address``. Its ``stop()`` shuts the
    server down and werkzeug's ``serve_forever`` closes the listening socket.
    """

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        silence_werkzeug()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.port = port
        self.url = f"http://{host}:{port}"
        self._stopped = False

    def reset(self) -> None:
        """Wipe every backend (all accounts, regions, IAM keys, metric data)."""
        with urlopen(Request(f"{self.url}/moto-api/reset", data=b"", method="POST"), timeout=10) as r:
            r.read()

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._server.stop()

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def boto_client(
    service: str,
    endpoint_url: str,
    *,
    region: str = "us-east-1",
    access_key: str = TEST_KEY,
    secret_key: str = TEST_KEY,
    session_token: str | None = None,
) -> Any:
    """A boto3 client for the local endpoint that does not retry (unimplemented calls fail fast)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        aws_session_token=session_token,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


def assumed_credentials(endpoint_url: str, role_arn: str, session_name: str = "tests") -> dict[str, str]:
    """Keyword arguments for :func:`boto_client` acting as ``role_arn`` (its account, in moto)."""
    creds = boto_client("sts", endpoint_url).assume_role(RoleArn=role_arn, RoleSessionName=session_name)
    c = creds["Credentials"]
    return {"access_key": c["AccessKeyId"], "secret_key": c["SecretAccessKey"],
            "session_token": c["SessionToken"]}


# --------------------------------------------------------------------------- faults

ACCESS_DENIED = "access_denied"
THROTTLING = "throttling"
OPT_IN_REQUIRED = "opt_in_required"  # a region the account has not enabled
EXPIRED_TOKEN = "expired_token"
INTERNAL_ERROR = "internal_error"

# kind -> protocol family -> (status, code). Families: "ec2", "query", "query-json"
# (JSON with awsQueryCompatible: cloudwatch), "json", "rest-xml" (s3), "rest-json" (lambda).
PRESETS: dict[str, dict[str, tuple[int, str]]] = {
    ACCESS_DENIED: {
        "ec2": (403, "UnauthorizedOperation"), "query": (403, "AccessDenied"),
        "query-json": (403, "AccessDenied"), "json": (400, "AccessDeniedException"),
        "rest-xml": (403, "AccessDenied"), "rest-json": (403, "AccessDeniedException"),
    },
    THROTTLING: {
        "ec2": (503, "RequestLimitExceeded"), "query": (400, "Throttling"),
        "query-json": (400, "Throttling"), "json": (400, "ThrottlingException"),
        "rest-xml": (503, "SlowDown"), "rest-json": (429, "TooManyRequestsException"),
    },
    OPT_IN_REQUIRED: {
        "ec2": (401, "OptInRequired"), "query": (403, "InvalidClientTokenId"),
        "query-json": (403, "InvalidClientTokenId"), "json": (400, "UnrecognizedClientException"),
        "rest-xml": (403, "InvalidAccessKeyId"), "rest-json": (403, "UnrecognizedClientException"),
    },
    EXPIRED_TOKEN: {
        "ec2": (400, "RequestExpired"), "query": (400, "ExpiredToken"),
        "query-json": (400, "ExpiredToken"), "json": (400, "ExpiredTokenException"),
        "rest-xml": (400, "ExpiredToken"), "rest-json": (403, "ExpiredTokenException"),
    },
    INTERNAL_ERROR: {
        "ec2": (500, "InternalError"), "query": (500, "InternalFailure"),
        "query-json": (500, "InternalFailure"), "json": (500, "InternalFailure"),
        "rest-xml": (500, "InternalError"), "rest-json": (500, "ServiceException"),
    },
}

_MESSAGES = {
    ACCESS_DENIED: "You are not authorized to perform this operation.",
    THROTTLING: "Rate exceeded",
    OPT_IN_REQUIRED: "You are not subscribed to this service in this region.",
    EXPIRED_TOKEN: "The security token included in the request is expired",
    INTERNAL_ERROR: "We encountered an internal error. Please try again.",
}


@lru_cache(maxsize=64)
def _service_model(client_name: str) -> Any:
    import botocore.session

    try:
        return botocore.session.get_session().get_service_model(client_name)
    except Exception:
        return None


def protocol_family(service: str) -> str:
    """The error-body family for a boto3 client name (unknown services: query)."""
    model = _service_model(service)
    if model is None:
        return "query"
    protocol = model.resolved_protocol
    if protocol in ("json", "smithy-rpc-v2-cbor"):
        return "query-json" if "awsQueryCompatible" in model.metadata else "json"
    return protocol if protocol in ("ec2", "query", "rest-xml", "rest-json") else "query"


def preset(kind: str, service: str) -> tuple[int, str]:
    """(HTTP status, error code) that ``service`` answers for fault ``kind``."""
    return PRESETS[kind][protocol_family(service)]


def error_response(service: str, status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    """An AWS error in ``service``'s wire protocol: (status, headers, body)."""
    request_id = str(uuid.uuid4())
    family = protocol_family(service)
    headers = {"x-amzn-RequestId": request_id}
    if family == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>"
                f"<Message>{_xml(message)}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>")
        headers["Content-Type"] = "text/xml"
    elif family == "query":
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>{_xml(message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        headers["Content-Type"] = "text/xml"
    elif family == "rest-xml":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>"
                f"<Message>{_xml(message)}</Message><RequestId>{request_id}</RequestId></Error>")
        headers["Content-Type"] = "application/xml"
        headers["x-amz-request-id"] = request_id
    else:  # json, query-json, rest-json
        body = json.dumps({"__type": code, "message": message})
        json_type = "application/json" if family == "rest-json" else "application/x-amz-json-1.0"
        headers["Content-Type"] = json_type
        headers["x-amzn-ErrorType"] = code
        if family == "query-json":
            headers["x-amzn-query-error"] = f"{code};Sender"
    return status, headers, body.encode()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request seen by the proxy, parsed enough to assert on."""

    service: str  # boto3 client name: ec2, rds, elbv2, cloudwatch, s3, lambda, sts, ...
    region: str
    operation: str  # botocore operation name; "METHOD /path" when it cannot be told
    access_key: str
    method: str
    path: str
    time: float
    status: int
    faulted: bool


@dataclass(slots=True)
class FaultRule:
    """Requests matching every given field get ``status``/``code`` (or only ``delay``)."""

    service: str | None = None
    region: str | None = None
    operation: str | None = None
    access_key: str | None = None
    status: int = 0
    code: str | None = None
    message: str = ""
    kind: str | None = None
    times: int | None = None  # None: every matching request; N: the next N only
    delay: float = 0.0
    hits: int = 0

    def matches(self, service: str, region: str, operation: str, access_key: str) -> bool:
        return ((self.service is None or self.service == service)
                and (self.region is None or self.region == region)
                and (self.operation is None or self.operation == operation)
                and (self.access_key is None or self.access_key == access_key))


def _credential_scope(headers: Any, query: dict[str, list[str]]) -> tuple[str, str, str]:
    """(access key, region, signing name) from the SigV4 Authorization header or presigned query."""
    auth = headers.get("Authorization", "")
    cred = ""
    if "Credential=" in auth:
        cred = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
    elif "X-Amz-Credential" in query:
        cred = query["X-Amz-Credential"][0]
    parts = cred.split("/")
    if len(parts) >= 5:
        return parts[0], parts[2], parts[3]
    return "", "", ""


@lru_cache(maxsize=16)
def _rest_routes(service: str) -> tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str | None], ...],
                                             tuple[str, ...], str], ...]:
    """(method, path template segments, literal query items, required query keys, name) per operation."""
    model = _service_model(service)
    if model is None:
        return ()
    routes = []
    for name in model.operation_names:
        op = model.operation_model(name)
        uri: str = op.http.get("requestUri", "/")
        path, _, query = uri.partition("?")
        literals: list[tuple[str, str | None]] = []
        for item in filter(None, query.split("&")):
            key, eq, value = item.partition("=")
            literals.append((key, value if eq else None))
        required: list[str] = []  # query keys, and headers as "header:name"
        shape = op.input_shape
        if shape is not None:
            for member_name in shape.required_members:
                member = shape.members[member_name]
                location = member.serialization.get("location")
                if location == "querystring":
                    required.append(member.serialization.get("name", member_name))
                elif location == "header":
                    required.append("header:" + member.serialization.get("name", member_name).lower())
        routes.append((op.http.get("method", "GET"), _segments(path), tuple(literals), tuple(required), name))
    return tuple(routes)


def _segments(path: str) -> tuple[str, ...]:
    parts = path.split("/")[1:]
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return tuple(parts)


def rest_operation(service: str, method: str, path: str, query: dict[str, list[str]],
                   headers: Any = None) -> str:
    """The botocore operation a rest-xml/rest-json request is for, matched on its HTTP binding."""
    segments = _segments(unquote(path))
    present = set(query) | {"header:" + name.lower() for name in (headers or {})}
    best, best_score = "", -1
    for op_method, template, literals, required, name in _rest_routes(service):
        if op_method != method or not _path_matches(template, segments):
            continue
        if any(k not in query or (v is not None and v not in query[k]) for k, v in literals):
            continue
        if any(key not in present for key in required):
            continue
        score = 10 * sum(1 for s in template if not s.startswith("{")) + 5 * len(literals) + 5 * len(required)
        if score > best_score:
            best, best_score = name, score
    return best or f"{method} {path}"


def _path_matches(template: tuple[str, ...], segments: tuple[str, ...]) -> bool:
    for i, part in enumerate(template):
        if part.endswith("+}"):
            return len(segments) > i
        if i >= len(segments):
            return False
        if part.startswith("{"):
            if segments[i] == "":
                return False
        elif part != segments[i]:
            return False
    return len(segments) == len(template)


_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
               "transfer-encoding", "upgrade"}


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _proxy(self) -> None:
        body = self._read_body()
        self.server.owner._handle(self, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _proxy

    def send_full(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        length_sent = False
        for name, value in headers:
            lower = name.lower()
            if lower in _HOP_BY_HOP or lower in ("date", "server"):
                continue
            if lower == "content-length":
                if self.command != "HEAD":
                    continue
                length_sent = True
            self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(body)))
        elif not length_sent:
            self.send_header("Content-Length", "0")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)


class _ProxyHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: FaultProxy) -> None:
        self.owner = owner
        self._conns: dict[socket.socket, threading.Thread] = {}
        self._conn_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                                  name="fault-proxy-conn", daemon=True)
        with self._conn_lock:
            self._conns[request] = thread
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._conns.pop(request, None)
        super().shutdown_request(request)

    def close_connections(self, timeout: float = 5.0) -> None:
        """Wake handler threads parked on idle keep-alive connections and wait for them."""
        with self._conn_lock:
            conns = list(self._conns.items())
        for sock, _ in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _, thread in conns:
            thread.join(max(0.0, deadline - time.monotonic()))


class FaultProxy:
    """An HTTP reverse proxy on 127.0.0.1 that records AWS requests and injects faults.

    Put it between the code under test and moto (``endpoint_url=proxy.url``).
    Every request is forwarded unchanged (Host header included: moto does not
    check signatures) unless a fault rule matches it.
    """

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self.target_host = parts.hostname or "127.0.0.1"
        self.target_port = parts.port or 80
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._rules: list[FaultRule] = []
        self._server = _ProxyHTTPServer(self)
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        self._closed = False

    # ------------------------------------------------------------- records
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def operations(self, service: str | None = None) -> list[str]:
        """Operation names in arrival order, optionally of one service."""
        return [r.operation for r in self.requests if service is None or r.service == service]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    # ------------------------------------------------------------- faults
    def add_fault(
        self,
        service: str | None = None,
        region: str | None = None,
        operation: str | None = None,
        access_key: str | None = None,
        *,
        kind: str | None = None,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        times: int | None = None,
        delay: float = 0.0,
    ) -> FaultRule:
        """Make matching requests fail.

        Either ``kind`` (ACCESS_DENIED, THROTTLING, ...; status and code follow the
        service, see PRESETS) or an explicit ``code`` (with ``status``, default 400).
        ``delay`` alone (no kind, no code) slows matching requests down without
        failing them. Newer rules win over older ones.
        """
        if kind is not None and kind not in PRESETS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(PRESETS)}")
        if kind is None and code is None and delay <= 0:
            raise ValueError("a fault needs kind=, code= or delay=")
        rule = FaultRule(service=service, region=region, operation=operation, access_key=access_key,
                         status=status or 0, code=code, kind=kind,
                         message=_MESSAGES.get(kind or "", "Injected fault") if message is None else message,
                         times=times, delay=delay)
        with self._lock:
            self._rules.insert(0, rule)
        return rule

    def deny(self, service: str | None = None, **match: Any) -> FaultRule:
        return self.add_fault(service, kind=ACCESS_DENIED, **match)

    def throttle(self, service: str | None = None, **match: Any) -> FaultRule:
        return self.add_fault(service, kind=THROTTLING, **match)

    def disable_region(self, region: str, **match: Any) -> FaultRule:
        return self.add_fault(region=region, kind=OPT_IN_REQUIRED, **match)

    def expire_token(self, access_key: str | None = None, **match: Any) -> FaultRule:
        return self.add_fault(access_key=access_key, kind=EXPIRED_TOKEN, **match)

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    def _take_rule(self, service: str, region: str, operation: str, access_key: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(service, region, operation, access_key):
                    rule.hits += 1
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    return rule
        return None

    # ------------------------------------------------------------- serving
    def _handle(self, handler: _ProxyHandler, body: bytes) -> None:
        arrived = time.time()
        split = urlsplit(handler.path)
        query = parse_qs(split.query, keep_blank_values=True)
        access_key, region, signing = _credential_scope(handler.headers, query)
        service = SIGNING_TO_CLIENT.get(signing, signing)
        operation = self._operation(service, handler, split.path, query, body)
        rule = self._take_rule(service, region, operation, access_key)
        if rule is not None and rule.delay > 0:
            time.sleep(rule.delay)
        if rule is not None and (rule.kind or rule.code):
            if rule.kind:
                status, code = preset(rule.kind, service)
                status = rule.status or status
            else:
                status, code = rule.status or 400, rule.code or "InjectedFault"
            status, headers, payload = error_response(service, status, code, rule.message)
            self._record(service, region, operation, access_key, handler, split.path, arrived, status, True)
            handler.send_full(status, list(headers.items()), payload)
            return
        status, resp_headers, payload = self._forward(handler, body, service)
        self._record(service, region, operation, access_key, handler, split.path, arrived, status, False)
        handler.send_full(status, resp_headers, payload)

    def _record(self, service: str, region: str, operation: str, access_key: str, handler: _ProxyHandler,
                path: str, arrived: float, status: int, faulted: bool) -> None:
        entry = RecordedRequest(service=service, region=region, operation=operation, access_key=access_key,
                                method=handler.command, path=path, time=arrived, status=status,
                                faulted=faulted)
        with self._lock:
            self._requests.append(entry)

    @staticmethod
    def _operation(service: str, handler: _ProxyHandler, path: str, query: dict[str, list[str]],
                   body: bytes) -> str:
        target = handler.headers.get("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        if "Action" in query:
            return query["Action"][0]
        ctype = handler.headers.get("Content-Type", "")
        if "x-www-form-urlencoded" in ctype and body:
            form = parse_qs(body.decode("utf-8", "replace"))
            if "Action" in form:
                return form["Action"][0]
        if "/operation/" in path:  # smithy rpc-v2-cbor: /service/NAME/operation/OP
            return path.rsplit("/", 1)[-1]
        return rest_operation(service, handler.command, path, query, handler.headers.keys())

    def _forward(self, handler: _ProxyHandler, body: bytes,
                 service: str) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        if body or handler.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(self.target_host, self.target_port, timeout=60)
        try:
            conn.request(handler.command, handler.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            return resp.status, resp.getheaders(), payload
        except OSError as exc:  # upstream down: a 502 botocore can parse (ClientError "BadGateway")
            status, headers, payload = error_response(service, 502, "BadGateway",
                                                      f"fault proxy: upstream failed: {exc}")
            return status, list(headers.items()), payload
        finally:
            conn.close()

    # ------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Stop serving and wait for every thread the proxy started."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._thread.join(5)
        self._server.close_connections()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def iter_instances(ec2: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every instance describe_instances returns, across pages."""
    for page in ec2.get_paginator("describe_instances").paginate(**kwargs):
        for reservation in page["Reservations"]:
            yield from reservation["Instances"]


__all__ = [
    "ACCESS_DENIED", "DEFAULT_ACCOUNT", "EXPIRED_TOKEN", "INTERNAL_ERROR", "OPT_IN_REQUIRED", "PRESETS",
    "SECOND_ACCOUNT", "TEST_KEY", "THROTTLING", "FaultProxy", "FaultRule", "MotoServer", "RecordedRequest",
    "assumed_credentials", "boto_client", "error_response", "free_port", "iter_instances", "preset",
    "protocol_family", "rest_operation", "unused_local_url",
]
