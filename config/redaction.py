"""The one redaction every output goes through: logs, snapshots, audit records,
notifications, reports and the screen.

Two kinds of secret are masked: the values the config marked secret (known exactly,
collected while loading) and credentials recognisable by their shape even when
nobody declared them (an AWS key in a tag, a token in an error message, a webhook
URL pasted into an annotation). Masking is idempotent, so a text may pass twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"

_AWS_KEY_ID = re.compile(
    r"\b((?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA))([A-Z0-9]{12})([A-Z0-9]{4})\b")
# A secret access key is 40 base64 characters; to spare hex digests (git, SHA-1) only
# mixed-case strings with a digit count, alone or after a name that says what it is.
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_URL_PASSWORD = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'\"]*):([^/\s@'\"]+)@")
_SLACK_WEBHOOK = re.compile(r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s'\"<>]+")
_DISCORD_WEBHOOK = re.compile(
    r"(https://(?:[a-z]+\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/)[^\s'\"<>]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_TOKENS = re.compile(
    r"\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_-]{20,}"
    r"|sk-[A-Za-z0-9_-]{20,})")
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S)
_NAMED = re.compile(
    r"(?i)([\w.-]*(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|"
    r"private[_-]?key)[\w.-]*)(\\?[\"']?\s*[:=]\s*\\?[\"']?)([^\s\"'\\&,;}{]+)")


def _secret_shape(match: re.Match[str]) -> str:
    text = match.group(0)
    mixed = (any(c.islower() for c in text) and any(c.isupper() for c in text)
             and any(c.isdigit() for c in text))
    return REDACTED if mixed else text


def _credential(match: re.Match[str]) -> str:
    """`Bearer <token>` / `Basic <base64>`, not prose like "basic authentication"."""
    value = match.group(3)
    looks = any(c.isdigit() for c in value) or (value != value.lower() and value != value.upper())
    return f"{match.group(1)}{match.group(2)}{REDACTED}" if looks else match.group(0)


def _named(match: re.Match[str]) -> str:
    value = match.group(3)
    if value == REDACTED or value.lower() in ("none", "null", "true", "false", "~", "***"):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with known secret values and credential-shaped strings masked.

    Longer secrets go first so a secret containing another is masked whole.
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    if not text:
        return text
    text = _PRIVATE_KEY.sub(f"-----BEGIN PRIVATE KEY-----{REDACTED}", text)
    text = _URL_PASSWORD.sub(rf"\1:{REDACTED}@", text)
    text = _SLACK_WEBHOOK.sub(rf"\1{REDACTED}", text)
    text = _DISCORD_WEBHOOK.sub(rf"\1{REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _TOKENS.sub(REDACTED, text)
    text = _BEARER.sub(_credential, text)
    text = _NAMED.sub(_named, text)
    text = _AWS_KEY_ID.sub(r"\1…\3", text)
    return _AWS_SECRET.sub(_secret_shape, text)
