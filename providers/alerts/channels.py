"""What a notification says and how it is delivered, per channel kind.

Payload builders are pure functions of a `Group` (one message's worth of alerts), so the
shapes are unit-tested without a network: Slack incoming webhooks, Discord webhooks
(within Discord's size limits, which it enforces by refusing the whole message), the
Alertmanager webhook shape for generic receivers (so anything that already takes
Alertmanager's webhooks takes ours), and email.

Senders return a `SendResult` whose `detail` is one line of our own words ("HTTP 500",
"timed out after 10 s"): never the URL (Slack and Discord put the token in its path), never a
header value or a password, never an exception's text that might quote them.
"""

from __future__ import annotations

import asyncio
import errno
import html
import json
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, NamedTuple

import aiohttp

from config.model import ChannelSettings
from providers.alerts.model import FIRING, RESOLVED, SEVERITY_ORDER, Alert, Labels

KINDS = ("slack", "discord", "webhook", "email")
ZERO_TIME = "0001-01-01T00:00:00Z"
"""Alertmanager's endsAt of an alert that has not ended."""
MAX_LISTED = 20
"""Alerts listed one by one in a Slack section or an email; the rest are counted."""
MAX_RETRY_AFTER = 60.0
"""A 429's Retry-After is honoured up to this; longer waits end the attempts (tried next interval)."""

# Discord refuses (HTTP 400) a message beyond any of these.
DISCORD_CONTENT = 2000
DISCORD_EMBEDS = 10
DISCORD_TITLE = 256
DISCORD_DESCRIPTION = 4096
DISCORD_FIELDS = 25
DISCORD_FIELD_NAME = 256
DISCORD_FIELD_VALUE = 1024
DISCORD_TOTAL = 6000
"""All embeds' titles, descriptions, field names and values, footers together."""

COLOURS = {"critical": "#d32f2f", "warning": "#f57c00", "info": "#1e88e5"}
RESOLVED_COLOUR = "#2e7d32"
OTHER_COLOUR = "#757575"


@dataclass(frozen=True, slots=True)
class Group:
    """One message: the alerts of one routing group, for one channel."""

    channel: str
    key: str
    """The route's group key, e.g. "route0:{alertname=HostCpuHigh}"."""
    labels: Labels
    """The group_by labels' values."""
    firing: tuple[Alert, ...] = ()
    resolved: tuple[Alert, ...] = ()
    external_url: str = ""

    @property
    def status(self) -> str:
        """firing while any alert fires (as Alertmanager says), else resolved."""
        return FIRING if self.firing else RESOLVED

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return self.firing + self.resolved

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(a.fingerprint for a in self.alerts)

    def common_labels(self) -> dict[str, str]:
        return _common([dict(a.labels) for a in self.alerts])

    def common_annotations(self) -> dict[str, str]:
        return _common([dict(a.annotations) for a in self.alerts])

    @property
    def title(self) -> str:
        """"[FIRING:2] HostCpuHigh (critical)" / "[RESOLVED] HostCpuHigh (critical)": one line."""
        head = f"[FIRING:{len(self.firing)}]" if self.firing else "[RESOLVED]"
        group = dict(self.labels)
        common = self.common_labels()
        name = group.get("alertname") or common.get("alertname") or ""
        extra = [v for k, v in self.labels if k != "alertname" and v]
        if not name:
            name, extra = (" ".join(extra), []) if extra else ("alerts", [])
        if "severity" not in group and common.get("severity"):
            extra.append(common["severity"])
        text = f"{head} {name}" + (f" ({' '.join(extra)})" if extra else "")
        return _one_line(text)

    @property
    def severity(self) -> str:
        """The most severe firing alert's severity ("" when nothing fires)."""
        if not self.firing:
            return ""
        return min((a.severity for a in self.firing), key=lambda s: SEVERITY_ORDER.get(s, 9))


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in sorted(first.items()) if all(m.get(k) == v for m in maps[1:])}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, ending in "…" when it was longer."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + "…"


def rfc3339(t: float | None) -> str:
    """UTC with a Z, milliseconds: what Alertmanager's receivers parse."""
    if t is None:
        return ZERO_TIME
    stamp = datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def value_text(value: float | None) -> str:
    if value is None:
        return ""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _started(a: Alert) -> float:
    return a.firing_since if a.firing_since is not None else a.active_since


def _http_url(url: str) -> str:
    """Only http(s) links: Discord refuses the whole message over a malformed embed URL."""
    return url if url.startswith(("http://", "https://")) else ""


def label_text(a: Alert, skip: Sequence[str] = ("alertname",)) -> str:
    return ", ".join(f"{k}={v}" for k, v in a.labels if k not in skip)


def _alert_line(a: Alert) -> str:
    """One alert in one line: summary, value, the labels that tell it apart."""
    parts = [a.summary]
    if a.value is not None and a.state == FIRING:
        parts.append(f"(value {value_text(a.value)})")
    labels = label_text(a, skip=("alertname", "severity"))
    if labels:
        parts.append(f"[{labels}]")
    if a.acked_by:
        parts.append(f"acknowledged by {a.acked_by}")
    return _one_line(" ".join(parts))


def _colour(group: Group, resolved: bool = False) -> str:
    if resolved or not group.firing:
        return RESOLVED_COLOUR
    return COLOURS.get(group.severity, OTHER_COLOUR)


def _slack_escape(text: str) -> str:
    """Slack's three control characters in mrkdwn text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _listed(alerts: Sequence[Alert], line: Any) -> list[str]:
    shown = [line(a) for a in alerts[:MAX_LISTED]]
    if len(alerts) > MAX_LISTED:
        shown.append(f"… and {len(alerts) - MAX_LISTED} more")
    return shown


# -- redaction -----------------------------------------------------------------------------------


def _redact_pairs(pairs: Labels, redact: Callable[[str], str]) -> Labels:
    return tuple((redact(k), redact(v)) for k, v in pairs)


def redact_group(group: Group, redact: Callable[[str], str]) -> Group:
    """The group with every text an alert carries masked, before any payload is built: a
    payload cuts long texts, and a secret cut in half would no longer be recognised."""
    alerts = {a.fingerprint: replace(
        a, name=redact(a.name), labels=_redact_pairs(a.labels, redact),
        annotations=_redact_pairs(a.annotations, redact), expr=redact(a.expr),
        acked_by=redact(a.acked_by), ack_comment=redact(a.ack_comment),
        generator_url=redact(a.generator_url)) for a in group.alerts}
    return replace(group, key=redact(group.key), labels=_redact_pairs(group.labels, redact),
                   firing=tuple(alerts[a.fingerprint] for a in group.firing),
                   resolved=tuple(alerts[a.fingerprint] for a in group.resolved),
                   external_url=redact(group.external_url))


def redact_payload(payload: Any, redact: Callable[[str], str]) -> Any:
    """Every string of a JSON payload (keys too) masked: belt and braces after redact_group,
    for what a payload composes from several texts."""
    if isinstance(payload, str):
        return redact(payload)
    if isinstance(payload, dict):
        return {redact_payload(k, redact): redact_payload(v, redact) for k, v in payload.items()}
    if isinstance(payload, list | tuple):
        return [redact_payload(v, redact) for v in payload]
    return payload


# -- payloads --------------------------------------------------------------------------------------


def slack(group: Group) -> dict[str, Any]:
    """A Slack incoming-webhook message: the title as text, one attachment per section."""
    attachments: list[dict[str, Any]] = []
    fields = [{"title": "severity", "value": group.severity, "short": True}] if group.severity else []
    fields += [{"title": k, "value": _slack_escape(v), "short": True}
               for k, v in group.labels if v and k not in ("alertname", "severity")]
    link = _http_url(group.external_url)
    for resolved, alerts in ((False, group.firing), (True, group.resolved)):
        if not alerts:
            continue
        section = f"Resolved ({len(alerts)})" if resolved else f"Firing ({len(alerts)})"
        lines = _listed(alerts, lambda a: "• " + _slack_escape(cut(_alert_line(a), 300)))
        attachment: dict[str, Any] = {
            "color": _colour(group, resolved),
            "title": section,
            "text": "\n".join(lines),
            "fields": fields if not attachments else [],
            "footer": "stacktop",
            "mrkdwn_in": ["text"],
        }
        if link:
            attachment["title_link"] = link
        attachments.append(attachment)
    return {"text": _slack_escape(group.title), "attachments": attachments}


def _discord_embed(a: Alert) -> dict[str, Any]:
    resolved = a.state != FIRING
    colour = RESOLVED_COLOUR if resolved else COLOURS.get(a.severity, OTHER_COLOUR)
    lines = [a.annotation("description")] if a.annotation("description") else []
    labels = label_text(a)
    if labels:
        lines.append(f"Labels: {labels}")
    if a.acked_by:
        lines.append(f"Acknowledged by {a.acked_by}" + (f": {a.ack_comment}" if a.ack_comment else ""))
    fields = [{"name": "Severity", "value": a.severity or "none", "inline": True}]
    if a.value is not None and not resolved:
        fields.append({"name": "Value", "value": value_text(a.value), "inline": True})
    fields.append({"name": "Since", "value": rfc3339(_started(a)), "inline": True})
    if resolved and a.resolved_at is not None:
        fields.append({"name": "Resolved", "value": rfc3339(a.resolved_at), "inline": True})
    embed: dict[str, Any] = {
        "title": cut(("RESOLVED: " if resolved else "") + _one_line(a.summary), DISCORD_TITLE),
        "description": cut("\n".join(lines), DISCORD_DESCRIPTION),
        "color": int(colour.lstrip("#"), 16),
        "fields": [{"name": cut(f["name"], DISCORD_FIELD_NAME), "value": cut(f["value"], DISCORD_FIELD_VALUE),
                    "inline": f["inline"]} for f in fields[:DISCORD_FIELDS]],
        "timestamp": rfc3339(a.resolved_at if resolved and a.resolved_at is not None else _started(a)),
    }
    url = _http_url(a.generator_url)
    if url:
        embed["url"] = url
    return embed


def _embed_size(embed: Mapping[str, Any]) -> int:
    return (len(embed.get("title", "")) + len(embed.get("description", ""))
            + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", ())))


def discord(group: Group) -> dict[str, Any]:
    """A Discord webhook message: the title as content, one embed per alert (at most 10:
    the tenth counts the rest), within Discord's per-field and 6000-character total limits."""
    alerts = group.alerts
    embeds = [_discord_embed(a) for a in alerts[:DISCORD_EMBEDS]]
    if len(alerts) > DISCORD_EMBEDS:
        rest = alerts[DISCORD_EMBEDS - 1:]
        names = ", ".join(_one_line(a.summary) for a in rest)
        embeds[-1] = {"title": f"… and {len(rest)} more",
                      "description": cut(names, DISCORD_DESCRIPTION),
                      "color": int(_colour(group).lstrip("#"), 16), "fields": []}
    # Over the total: shorten the longest descriptions first, then drop embeds from the end.
    while sum(_embed_size(e) for e in embeds) > DISCORD_TOTAL:
        excess = sum(_embed_size(e) for e in embeds) - DISCORD_TOTAL
        longest = max(embeds, key=lambda e: len(e.get("description", "")))
        have = len(longest.get("description", ""))
        if have > 200:
            longest["description"] = cut(longest["description"], max(200, have - excess))
        elif len(embeds) > 1:
            embeds.pop()
        else:
            break
    content = group.title
    if group.external_url:
        content += f"\n{group.external_url}"
    return {"content": cut(content, DISCORD_CONTENT), "embeds": embeds,
            "allowed_mentions": {"parse": []}}


def webhook(group: Group) -> dict[str, Any]:
    """Alertmanager's webhook payload (version 4), so existing Alertmanager receivers accept it."""
    return {
        "version": "4",
        "groupKey": group.key,
        "truncatedAlerts": 0,
        "status": group.status,
        "receiver": group.channel,
        "groupLabels": {k: v for k, v in group.labels if v},
        "commonLabels": group.common_labels(),
        "commonAnnotations": group.common_annotations(),
        "externalURL": group.external_url,
        "alerts": [
            {
                "status": FIRING if a.state == FIRING else RESOLVED,
                "labels": dict(a.labels),
                "annotations": dict(a.annotations),
                "startsAt": rfc3339(_started(a)),
                "endsAt": rfc3339(a.resolved_at) if a.state != FIRING else ZERO_TIME,
                "generatorURL": a.generator_url or group.external_url,
                "fingerprint": a.fingerprint,
            }
            for a in group.alerts
        ],
    }


def _email_block(a: Alert) -> list[str]:
    lines = [f"- {_one_line(a.summary)}"]
    if a.value is not None and a.state == FIRING:
        lines.append(f"  Value: {value_text(a.value)}")
    lines.append(f"  Since: {rfc3339(_started(a))}")
    if a.state != FIRING and a.resolved_at is not None:
        lines.append(f"  Resolved: {rfc3339(a.resolved_at)}")
    lines.append(f"  Labels: {label_text(a, skip=())}")
    if a.annotation("description"):
        lines.append(f"  {_one_line(a.annotation('description'))}")
    if a.acked_by:
        lines.append(f"  Acknowledged by {a.acked_by}" + (f": {a.ack_comment}" if a.ack_comment else ""))
    return lines


def email(group: Group, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """A plain-text email with a simple HTML alternative; the subject is the group's title."""
    msg = EmailMessage()
    msg["Subject"] = group.title
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="stacktop.invalid")
    text = [group.title, ""]
    body = [f"<h2>{html.escape(group.title)}</h2>"]
    for title, alerts in (("Firing", group.firing), ("Resolved", group.resolved)):
        if not alerts:
            continue
        text.append(f"{title} ({len(alerts)}):")
        body.append(f"<h3>{title} ({len(alerts)})</h3><ul>")
        for a in alerts[:MAX_LISTED]:
            block = _email_block(a)
            text.extend(block)
            body.append("<li><b>" + html.escape(block[0][2:]) + "</b><br>"
                        + "<br>".join(html.escape(line.strip()) for line in block[1:]) + "</li>")
        if len(alerts) > MAX_LISTED:
            text.append(f"… and {len(alerts) - MAX_LISTED} more")
            body.append(f"<li>… and {len(alerts) - MAX_LISTED} more</li>")
        text.append("")
        body.append("</ul>")
    if group.external_url:
        text.append(f"More: {group.external_url}")
        body.append(f'<p><a href="{html.escape(group.external_url)}">More</a></p>')
    text.append("-- stacktop")
    msg.set_content("\n".join(text) + "\n")
    msg.add_alternative("<html><body>" + "\n".join(body) + "</body></html>\n", subtype="html")
    return msg


# -- senders ---------------------------------------------------------------------------------------


class SendResult(NamedTuple):
    """One attempt's outcome. `detail` is safe to show and log; `retry_after` is a 429's wait."""

    ok: bool
    detail: str
    retryable: bool
    retry_after: float | None = None


def _seconds(timeout: float) -> str:
    return f"{timeout:g} s"


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is rare for webhooks: ignored)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


_SLACK_ERROR = re.compile(r"[a-z0-9_]{1,40}")
_DISCORD_MESSAGE = re.compile(r"[A-Za-z0-9 .,'_-]{1,80}")


def error_reason(body: bytes) -> str:
    """What a 4xx says is wrong, when it says it in a known, harmless form: Slack's error code
    ("no_service", "invalid_token") or Discord's JSON message ("Unknown Webhook"). Anything
    else is left out: a body could echo the request, secrets included."""
    text = body.decode("utf-8", errors="replace").strip()
    if _SLACK_ERROR.fullmatch(text):
        return text
    try:
        message = json.loads(text).get("message") if text.startswith("{") else None
    except (ValueError, AttributeError):
        return ""
    return message if isinstance(message, str) and _DISCORD_MESSAGE.fullmatch(message) else ""


def _os_error_detail(err: OSError | None) -> tuple[str, bool]:
    code = getattr(err, "errno", None)
    if code == errno.ECONNREFUSED:
        return "connection refused", True
    if code in (errno.ECONNRESET, errno.EPIPE):
        return "connection reset", True
    if isinstance(err, socket.gaierror):
        return "cannot resolve the host name", True
    reason = getattr(err, "strerror", None) or type(err).__name__
    return f"cannot connect ({_one_line(str(reason))})", True


async def send_http(session: aiohttp.ClientSession, url: str, payload: Any,
                    headers: Mapping[str, str], timeout: float) -> SendResult:
    """POST `payload` as JSON once. Retryable: 5xx, 429, timeouts, refused or reset connections;
    any other 4xx is final (the payload or the URL is wrong, and will stay wrong)."""
    try:
        async with session.post(url, json=payload, headers=dict(headers),
                                timeout=aiohttp.ClientTimeout(total=timeout),
                                allow_redirects=False) as response:
            status = response.status
            body = await response.content.read(4096)
            if 200 <= status < 300:
                return SendResult(True, f"HTTP {status}", False)
            if status == 429:
                return SendResult(False, "HTTP 429", True, _retry_after(response.headers.get("Retry-After")))
            reason = error_reason(body) if status < 500 else ""
            return SendResult(False, f"HTTP {status}" + (f" ({reason})" if reason else ""), status >= 500)
    except TimeoutError:
        return SendResult(False, f"timed out after {_seconds(timeout)}", True)
    except aiohttp.InvalidURL:
        return SendResult(False, "invalid URL (check the channel's url)", False)
    except aiohttp.ClientConnectorCertificateError:
        return SendResult(False, "TLS certificate not trusted", False)
    except aiohttp.ClientSSLError:
        return SendResult(False, "TLS handshake failed", True)
    except aiohttp.ClientConnectorError as exc:
        detail, retryable = _os_error_detail(exc.os_error)
        return SendResult(False, detail, retryable)
    except aiohttp.ServerDisconnectedError:
        return SendResult(False, "server closed the connection", True)
    except aiohttp.ClientOSError as exc:
        detail, retryable = _os_error_detail(exc)
        return SendResult(False, detail, retryable)
    except aiohttp.ClientError as exc:
        # The exception's text may quote the URL: only its type is safe to say.
        return SendResult(False, f"request failed ({type(exc).__name__})", True)


def _smtp_reply(code: int, what: str) -> SendResult:
    """A refused SMTP command: 4xx is the server asking to come back later."""
    return SendResult(False, f"SMTP {code}: {what}", 400 <= code < 500)


def send_email_sync(channel: ChannelSettings, message: EmailMessage,
                    tls_context: ssl.SSLContext | None = None) -> SendResult:
    """Deliver once over SMTP (blocking: run it in a thread). Port 465 is TLS from the first
    byte; otherwise STARTTLS when `starttls`, refusing to go on in clear text if the server does
    not offer it; AUTH when a username is set."""
    host, port, timeout = channel.host or "localhost", channel.port, channel.timeout
    context = tls_context or ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if port == 465:
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            client.ehlo()
            if port != 465 and channel.starttls:
                client.starttls(context=context)
                client.ehlo()
            if channel.username:
                client.login(channel.username, channel.password or "")
            refused = client.send_message(message)
        if refused:
            return SendResult(True, f"SMTP 250 ({len(refused)} recipients refused)", False)
        return SendResult(True, "SMTP 250", False)
    except smtplib.SMTPNotSupportedError:
        return SendResult(False, "the server does not offer STARTTLS (set starttls: false only "
                                 "on a trusted network)", False)
    except smtplib.SMTPAuthenticationError as exc:
        return _smtp_reply(exc.smtp_code, "authentication failed (check username and password)")
    except smtplib.SMTPRecipientsRefused:
        return SendResult(False, "SMTP: every recipient refused", False)
    except smtplib.SMTPSenderRefused as exc:
        return _smtp_reply(exc.smtp_code, "sender refused (check sender)")
    except smtplib.SMTPResponseException as exc:
        return _smtp_reply(exc.smtp_code, "command refused")
    except smtplib.SMTPServerDisconnected:
        return SendResult(False, "SMTP server closed the connection", True)
    except smtplib.SMTPException as exc:
        # smtplib's own words ("No suitable authentication method found."), not the server's.
        return SendResult(False, f"SMTP failed: {cut(_one_line(str(exc)), 120)}", False)
    except ssl.SSLCertVerificationError:
        return SendResult(False, "TLS certificate not trusted", False)
    except ssl.SSLError:
        return SendResult(False, "TLS handshake failed", True)
    except TimeoutError:
        return SendResult(False, f"timed out after {_seconds(timeout)}", True)
    except OSError as exc:
        detail, retryable = _os_error_detail(exc)
        return SendResult(False, detail, retryable)


async def send_email(channel: ChannelSettings, message: EmailMessage,
                     tls_context: ssl.SSLContext | None = None) -> SendResult:
    """send_email_sync in a worker thread: smtplib blocks; the event loop must not."""
    return await asyncio.to_thread(send_email_sync, channel, message, tls_context)
