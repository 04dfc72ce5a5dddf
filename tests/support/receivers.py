"""Local notification receivers for tests and the demo: a webhook server (aiohttp) and an SMTP
server (aiosmtpd) with STARTTLS and AUTH, both on a free 127.0.0.1 port, both in the caller's
event loop, both recording everything they receive.

    async with WebhookReceiver() as hooks:
        hooks.respond("/slack/T000/B000/XXXX", 500, 500, 200)   # then 200 for ever
        ... hooks.url("/slack/T000/B000/XXXX") ...
        [req] = await hooks.wait_for(1, "/slack/T000/B000/XXXX")

    async with SmtpReceiver(tmp_path) as smtp:                  # STARTTLS + AUTH required
        ... ChannelSettings(kind="email", host=smtp.host, port=smtp.port,
                            username=smtp.username, password=smtp.password, ...)
        ... Notifier(..., tls_context=smtp.client_context()) ...
        [msg] = await smtp.wait_for(1)
"""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Request:
    """One request as the receiver saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    """The decoded JSON body, or None when it was not JSON."""
    at: float


@dataclass(frozen=True)
class Reply:
    status: int = 200
    delay: float = 0.0
    """Seconds to wait before answering (real time: for timeouts)."""
    headers: tuple[tuple[str, str], ...] = ()
    body: str = "ok"


@dataclass
class _Script:
    replies: list[Reply] = field(default_factory=list)
    then: Reply = field(default_factory=Reply)
    hold: asyncio.Event | None = None


class WebhookReceiver:
    """Answers every path (200 "ok" unless told otherwise) and records every request."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._scripts: dict[str, _Script] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for script in self._scripts.values():
            if script.hold is not None:
                script.hold.set()  # let held requests finish so shutdown does not wait on them
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WebhookReceiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def respond(self, path: str, *statuses: int | Reply, then: int | Reply = 200) -> None:
        """Answer the next requests to `path` with these statuses (or Replies) in order,
        then with `then` for every request after them."""
        script = self._scripts.setdefault(path, _Script())
        script.replies = [s if isinstance(s, Reply) else Reply(s) for s in statuses]
        script.then = then if isinstance(then, Reply) else Reply(then)

    def hold(self, path: str) -> asyncio.Event:
        """Requests to `path` are recorded, then wait for the returned event before answering."""
        script = self._scripts.setdefault(path, _Script())
        script.hold = asyncio.Event()
        return script.hold

    def to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(self, n: int, path: str | None = None, timeout: float = 10.0) -> list[Request]:
        """The first `n` requests (to `path` if given), once they have arrived."""
        def have() -> list[Request]:
            return [r for r in self.requests if path is None or r.path == path]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(have()) >= n), timeout)
        return have()[:n]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            decoded = await request.json() if body else None
        except ValueError:
            decoded = None
        self.requests.append(Request(request.method, request.path, dict(request.headers), body, decoded,
                                     time.time()))
        async with self._changed:
            self._changed.notify_all()
        script = self._scripts.get(request.path) or _Script()
        reply = script.replies.pop(0) if script.replies else script.then
        if script.hold is not None:
            await script.hold.wait()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return web.Response(status=reply.status, text=reply.body, headers=dict(reply.headers))


# -- SMTP ------------------------------------------------------------------------------------------


def self_signed(directory: Path, names: Iterable[str] = ("localhost", HOST)) -> tuple[Path, Path]:
    """A throwaway certificate and key for `names` (DNS names and IP addresses): (cert, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    names = list(names)
    try:
        _self_signed_cryptography(cert, key, names)
    except ImportError:
        _self_signed_openssl(cert, key, names)
    key.chmod(0o600)
    return cert, key


def _self_signed_cryptography(cert: Path, key: Path, names: list[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))


def _self_signed_openssl(cert: Path, key: Path, names: list[str]) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("neither the cryptography package nor openssl is installed")
    alt = ",".join(("IP:" if _is_ip(n) else "DNS:") + n for n in names)
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
                    "-subj", f"/CN={names[0]}", "-addext", f"subjectAltName={alt}"],
                   check=True, capture_output=True)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Received:
    """One delivered message and how it arrived."""

    message: EmailMessage
    mail_from: str
    rcpt_tos: tuple[str, ...]
    tls: bool
    login: str | None


class _Handler:
    def __init__(self, owner: SmtpReceiver) -> None:
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        login = session.auth_data.login.decode() if getattr(session, "auth_data", None) else None
        await self.owner._add(Received(message, envelope.mail_from, tuple(envelope.rcpt_tos),  # type: ignore[arg-type]
                                       session.ssl is not None, login))
        return "250 OK"


class SmtpReceiver:
    """aiosmtpd on a free port in the running loop. With `tls` (default) STARTTLS is offered with
    a self-signed certificate and required before AUTH and mail; with `auth` (default) AUTH
    LOGIN/PLAIN is required and only `username`/`password` pass."""

    def __init__(self, directory: Path, *, tls: bool = True, auth: bool = True,
                 username: str = "alerts", password: str = "s3cret-pass") -> None:
        self.directory = Path(directory)
        self.tls, self.auth = tls, auth
        self.username, self.password = username, password
        self.host, self.port = HOST, 0
        self.received: list[Received] = []
        self.failed_logins = 0
        self.cert: Path | None = None
        self._changed = asyncio.Condition()
        self._server: asyncio.AbstractServer | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    def client_context(self) -> ssl.SSLContext:
        """What a client needs to trust this server's certificate (and check its name)."""
        context = ssl.create_default_context()
        if self.cert is not None:
            context.load_verify_locations(cafile=str(self.cert))
        return context

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.username
              and auth_data.password.decode() == self.password)
        if not ok:
            self.failed_logins += 1
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    async def start(self) -> SmtpReceiver:
        from aiosmtpd.smtp import SMTP

        kwargs: dict[str, Any] = {"hostname": "localhost", "auth_require_tls": self.tls}
        if self.tls:
            self.cert, key = self_signed(self.directory)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(self.cert), str(key))
            kwargs.update(tls_context=context, require_starttls=True)
        if self.auth:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        handler = _Handler(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(handler, **kwargs), HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> SmtpReceiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _add(self, received: Received) -> None:
        self.received.append(received)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, n: int, timeout: float = 10.0) -> list[EmailMessage]:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.received) >= n), timeout)
        return self.messages[:n]
