"""A small JSON-over-HTTP client for the Prometheus and Alertmanager APIs.

Both speak JSON, both may sit behind basic auth or a bearer token (a reverse
proxy, or their own --web.config.file), and both must fail in one line that
names the server and never its credentials: a URL's user:password@ is taken
out of the URL before anything shows it, and the token and password are only
ever put in the Authorization header.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp


class ApiError(Exception):
    """One line for the operator. `status` is the HTTP status when there was an answer."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def one_line(text: Any, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """The URL without user:password@ (which must never be shown), and what it held."""
    parts = urlsplit(url.strip())
    if parts.username is None and parts.password is None:
        return url.strip().rstrip("/"), None, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)).rstrip("/")
    return clean, parts.username, parts.password


def transport_reason(exc: BaseException, timeout: float) -> str:
    """Why a request got no answer, in a few words (never the exception's internals)."""
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "TLS certificate not trusted"
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(os_error, socket.gaierror):
            return f"host not found ({os_error.strerror})"
        if isinstance(os_error, ssl.SSLError):
            return f"TLS failed ({one_line(os_error.reason or os_error, 80)})"
        return one_line((os_error.strerror or str(os_error)) if os_error else "cannot connect", 100).lower()
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "connection closed before an answer"
    if isinstance(exc, aiohttp.NonHttpUrlClientError | aiohttp.InvalidURL):
        return "not an http(s) URL"
    if isinstance(exc, aiohttp.ClientError | OSError):
        return one_line(exc, 100) or type(exc).__name__
    return type(exc).__name__


def error_text(status: int, reason: str | None, body: str) -> str:
    """The server's own words for a refusal: Prometheus' {"error": ...}, Alertmanager's
    plain text or JSON string, or the status line when the body is HTML or empty."""
    text = body.strip()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        for key in ("error", "message", "msg"):
            if isinstance(parsed.get(key), str) and parsed[key].strip():
                return one_line(parsed[key])
    elif isinstance(parsed, str) and parsed.strip():
        return one_line(parsed)
    if not text or text.startswith("<"):
        return f"{reason or 'no reason given'}"
    return one_line(text)


class JsonApi:
    """One server's HTTP API: `request` returns the parsed JSON of a 2xx answer or
    raises ApiError with one line such as "HTTP 400: parse error at char 5"."""

    def __init__(self, url: str, *, timeout: float, username: str | None = None,
                 password: str | None = None, bearer_token: str | None = None,
                 redact: Callable[[str], str] = str) -> None:
        self.url, url_user, url_password = split_credentials(url)
        username = username or url_user
        password = password if password is not None else url_password
        self.timeout = timeout
        self._redact = redact
        self._headers = {"Accept": "application/json"}
        if bearer_token:
            self._headers["Authorization"] = f"Bearer {bearer_token}"
        elif username:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        self._secrets = tuple(s for s in (password, bearer_token, url_password) if s)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"JsonApi(url={self.url!r}, auth={'Authorization' in self._headers})"

    def clean(self, text: str) -> str:
        """`text` with the configured secrets (and any the runtime knows) replaced by ***."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return self._redact(text)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                      body: Any = None, timeout: float | None = None) -> Any:
        """The parsed JSON answer (None for an empty 2xx body)."""
        limit = self.timeout if timeout is None else timeout
        try:
            async with self._http().request(
                    method, self.url + path, params=params, json=body,
                    timeout=aiohttp.ClientTimeout(total=limit)) as response:
                text = await response.text()
                status, reason = response.status, response.reason
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            raise ApiError(self.clean(transport_reason(exc, limit))) from None
        if status in (401, 403):
            what = "refused the credentials" if status == 401 else "denied access"
            hint = "" if "Authorization" in self._headers else "; set username/password or bearer_token"
            raise ApiError(f"{what} (HTTP {status}){hint}", status)
        parsed: Any = None
        if text.strip():
            try:
                parsed = json.loads(text)
            except ValueError:
                if 200 <= status < 300:
                    raise ApiError(f"{method} {path} answered with something that is not JSON",
                                   status) from None
        if not 200 <= status < 300:
            raise ApiError(self.clean(f"HTTP {status}: {error_text(status, reason, text)}"), status, parsed)
        return parsed
