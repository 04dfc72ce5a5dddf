"""The one redaction every output goes through: logs, snapshots, audit records,
notifications, reports and the screen.

Two kinds of secret are masked: the values the config marked secret (known exactly,
collected while loading) and credentials recognisable by their shape even when
nobody declared them (an AWS key in a tag, a token in an error message, a webhook
URL pasted into an annotation). Masking is idempotent, so a text may pass twice.

It runs on every log line and every screen cell, so each shape is tried only when a
cheap substring test says it could be there; and it must not hide what operators need
to read (instance and security group ids, ARNs, git and SHA-256 digests, UUIDs,
Kubernetes names, dates, addresses, "basic authentication failed", "secret=False").
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable

REDACTED = "***"

# Written to start with a literal "A" so the engine skips ahead to each "A" (10x faster).
_AWS_KEY_ID = re.compile(
    r"A(?<![A-Za-z0-9]A)(KIA|SIA|IDA|ROA|GPA|NPA|NVA|IPA|BIA|CCA)([A-Z0-9]{12})([A-Z0-9]{4})(?![A-Za-z0-9])")
# A secret access key is 40 base64 characters; to spare hex digests (git, SHA-1) only
# mixed-case strings with a digit count (see _secret_shape), alone or after a name.
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# user:password@ after a scheme. The password runs to the last "@" of the address (an
# unencoded "@" or "/" in a password must not leak its tail); ":8080/" is a port, not one.
_URL_PASSWORD = re.compile(
    r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'\"<>]*):(?!\d{1,5}(?:[/?#]|$))([^\s'\"<>]+)@")
_SLACK_WEBHOOK = re.compile(r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/)[\w/+=-]+")
_DISCORD_WEBHOOK = re.compile(
    r"(https://(?:[a-z]+\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/)[\w/+=-]+")
# The case-insensitive shapes are searched in the lower-cased text (a case-insensitive
# pattern is several times slower) and masked at the same places in the text.
_CREDENTIAL = re.compile(r"\b(?:bearer|basic|token)\s+([a-z0-9\-._~+/]{8,}=*)")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_TOKENS = re.compile(
    r"\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"
    r"|glpat-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36}|AIza[0-9A-Za-z_-]{35}|[sr]k_live_[A-Za-z0-9]{20,})")
_SK_TOKEN = re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")
# A whole block, or (cut short) up to the quote that ends the string holding it.
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[^\"'<>]*?(?:-----END [A-Z ]*PRIVATE KEY-----|(?=\\*[\"'<>])|\Z)")
_PRIVATE_KEY_MASK = f"-----BEGIN PRIVATE KEY-----{REDACTED}-----END PRIVATE KEY-----"
# name=value, name: value, "name": "value" where the name says it holds a secret; matched
# from the keyword on (in the lower-cased text), the value is what gets masked.
_NAMED = re.compile(
    r"((?:pass(?:word|wd)|pwd|secret|api[_-]?key|token|private[_-]?key)[\w.-]*)"
    r"\\*[\"']?[ \t]*[:=][ \t]*\\*[\"']?"
    r"((?<=[\"'])[^\"'\\\r\n]+|[^\s\"'\\&,;}{]+)")
_NAMED_WORDS = ("pass", "pwd", "secret", "key", "token")
# Names that point at a secret rather than hold one: secretName, password_file, secret_arn…
_REFERENCE = re.compile(
    r"(?:name|names|ref|refs|arn|id|ids|file|path|env|manager|count|length|ttl|type|kind|policy"
    r"|version|expiry|expires|expired|age|rotation|enabled|required|set)$")
_HARMLESS = frozenset(("none", "null", "nil", "true", "false", "yes", "no", "~", REDACTED, "<redacted>"))
_ENV_REF = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
_TOKEN_START = " \t\r\n\"'(,[{=;"


def _in_arn(text: str, start: int) -> bool:
    """True when `start` lies inside an ARN (arn:aws:secretsmanager:…:secret:name is an id)."""
    if "arn:" not in text:
        return False
    begin = max(text.rfind(c, 0, start) for c in _TOKEN_START) + 1
    return text.startswith("arn:", begin)


def _wordy(segment: str) -> bool:
    return len(segment) >= 2 and segment.isalpha() and (segment.islower() or segment[1:].islower())


def _secret_shape(match: re.Match[str]) -> str:
    """40 base64 characters: a secret key when mixed case with a digit, but not a path
    (home/Ubuntu/…: two plain words between slashes) nor a segment of an ARN."""
    text = match.group(0)
    if text.isalnum() and (text.islower() or text.isupper()):
        return text
    if not (any(c.islower() for c in text) and any(c.isupper() for c in text)
            and any(c.isdigit() for c in text)):
        return text
    if "/" in text and (text.startswith("/") or sum(map(_wordy, text.split("/"))) >= 2):
        return text
    if _in_arn(match.string, match.start()):
        return text
    return REDACTED


def _credential(text: str, match: re.Match[str]) -> bool:
    """`Bearer <token>` / `Basic <base64>`, not prose like "basic authentication failed",
    "Basic Authentication" or "token expired"."""
    value = text[match.start(1):match.end(1)]
    if any(c.isdigit() for c in value) or value.endswith("="):
        return True
    return value != value.lower() and value != value.upper() and not value[1:].islower()


def _sk_token(match: re.Match[str]) -> str:
    """sk-… API keys are mixed case with digits; an all-lowercase sk-prod-nodes-… is a name."""
    text = match.group(0)
    return REDACTED if any(c.isupper() for c in text) and any(c.isdigit() for c in text) else text


def _named(text: str, match: re.Match[str]) -> bool:
    """A value to mask, unless it is harmless (False, null, ***), a ${VAR} reference, the
    name only points at a secret (secretName, password_file), or it is part of an ARN."""
    value = text[match.start(2):match.end(2)]
    if value.lower() in _HARMLESS or value.startswith(REDACTED):
        return False
    if value.startswith("$") and _ENV_REF.match(text, match.start(2)):
        return False
    return not (_REFERENCE.search(match.group(1)) or _in_arn(text, match.start()))


def _lowered(text: str) -> str:
    """`text` lower-cased letter for letter (İ lowers to two characters: kept as is)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _mask_groups(text: str, lower: str, pattern: re.Pattern[str], group: int,
                 keep: Callable[[str, re.Match[str]], bool]) -> str:
    """Mask `group` of each match of `pattern` in `lower` (the text lower-cased: same
    length, same places) where `keep(text, match)` says so."""
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(lower):
        start, end = match.span(group)
        if start >= last and keep(text, match):
            pieces += (text[last:start], REDACTED)
            last = end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


SHORT_SECRET = 6
"""A secret shorter than this is masked only where it stands alone (not inside a longer
word): a one-letter password must not turn "excludes" into "e***cludes"."""


@functools.lru_cache(maxsize=64)
def _forms(secrets: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...], re.Pattern[str] | None]:
    """Each secret as written and as JSON writes it inside a string (an audit record escapes
    quotes, backslashes and non-ASCII letters), longest first so a secret holding another is
    masked whole; the short ones as one pattern that wants no letter or digit either side."""
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        forms.add(secret)
        once = json.dumps(secret)[1:-1]
        forms.update((once, json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(once)[1:-1]))
    ordered = sorted(forms, key=lambda s: (-len(s), s))
    long = tuple(form for form in ordered if len(form) >= SHORT_SECRET)
    short = tuple(form for form in ordered if len(form) < SHORT_SECRET)
    alone = "|".join(re.escape(form) for form in short)
    return long, short, re.compile(rf"(?<![^\W_])(?:{alone})(?![^\W_])") if short else None


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with known secret values and credential-shaped strings masked."""
    if secrets:
        known = secrets if isinstance(secrets, frozenset) else frozenset(secrets)
        long, short, alone = _forms(known)
        for secret in long:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if alone is not None and any(secret in text for secret in short):
            text = alone.sub(REDACTED, text)
    if len(text) < 5:
        return text
    if "PRIVATE KEY-----" in text:
        text = _PRIVATE_KEY.sub(_PRIVATE_KEY_MASK, text)
    if "://" in text:
        if "@" in text:
            text = _URL_PASSWORD.sub(rf"\1:{REDACTED}@", text)
        if "hooks.slack.com" in text:
            text = _SLACK_WEBHOOK.sub(rf"\1{REDACTED}", text)
        if "discord" in text:
            text = _DISCORD_WEBHOOK.sub(rf"\1{REDACTED}", text)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    if "_" in text or "xox" in text or "glpat-" in text or "AIza" in text:
        text = _TOKENS.sub(REDACTED, text)
    if "sk-" in text:
        text = _SK_TOKEN.sub(_sk_token, text)
    lower = _lowered(text)
    if "bearer" in lower or "basic" in lower or "token" in lower:
        masked = _mask_groups(text, lower, _CREDENTIAL, 1, _credential)
        if masked is not text:
            text, lower = masked, _lowered(masked)
    if ("=" in text or ":" in text) and any(word in lower for word in _NAMED_WORDS):
        text = _mask_groups(text, lower, _NAMED, 2, _named)
    if len(text) >= 20 and "A" in text:
        text = _AWS_KEY_ID.sub(r"A\1…\3", text)
    if len(text) >= 40:
        text = _AWS_SECRET.sub(_secret_shape, text)
    return text
