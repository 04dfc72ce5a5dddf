"""The Alerts tab's actions, declared once. Silence and expire serve both
stacktop's own alerts (provider `alerts`) and Alertmanager's (provider
`alertmanager`): the ActionTarget names the provider that acts, so one key
works on whichever alert or silence is selected.

A silence is asked for as one line, "DURATION COMMENT" (e.g. `2h disk swap
tonight`), parsed by `parse_silence_text` in the UI and again in the provider.
"""

from __future__ import annotations

from config.durations import format_duration, parse_duration
from providers.alerts.model import ALERTMANAGER, Alert, Matcher, Silence
from providers.base import ActionChoice, ActionOption, ActionSpec, ActionTarget, Risk, TextParameter

ALERTS_PROVIDER = "alerts"
ALERTMANAGER_PROVIDER = "alertmanager"
MAX_SILENCE = 30 * 86400.0
MATCHER_SEPARATOR = "\n"
"""Between the matchers carried in params["matchers"] (one `name="value"` per line)."""


def parse_silence_text(text: str) -> str:
    """`2h disk swap tonight` -> normalised `2h disk swap tonight`, or ValueError with
    one line saying what to type. A comment is required: the next on-call reads it."""
    parts = text.strip().split(None, 1)
    want = "type a duration and a comment, e.g. 2h replacing the disk"
    if not parts:
        raise ValueError(want)
    try:
        seconds = parse_duration(parts[0])
    except ValueError:
        raise ValueError(f"'{parts[0]}' is not a duration; {want}") from None
    if not 60 <= seconds <= MAX_SILENCE:
        raise ValueError(f"a silence lasts from 1m to {format_duration(MAX_SILENCE)}, got {parts[0]}")
    if len(parts) < 2 or not parts[1].strip():
        raise ValueError(f"add a comment after {parts[0]}: who and why, e.g. {parts[0]} replacing the disk")
    return f"{format_duration(seconds)} {parts[1].strip()}"


def silence_duration_and_comment(text: str) -> tuple[float, str]:
    normal = parse_silence_text(text)
    first, comment = normal.split(None, 1)
    return parse_duration(first), comment


SILENCE = ActionSpec(
    "alerts.silence", "s", "Silence", "Silence the matching alerts", Risk.SAFE, ALERTS_PROVIDER,
    choice=ActionChoice("scope", "Silence what"),
    text=TextParameter("silence", "Duration and comment", parse_silence_text,
                       placeholder="2h replacing the disk on db-2"),
)
EXPIRE_SILENCE = ActionSpec(
    "alerts.expire_silence", "x", "Expire silence", "Expire the silence now", Risk.SAFE,
    ALERTS_PROVIDER,
)
ACKNOWLEDGE = ActionSpec(
    "alerts.acknowledge", "a", "Acknowledge",
    "Acknowledge: keep it listed, stop its repeat notifications until it resolves",
    Risk.SAFE, ALERTS_PROVIDER,
    text=TextParameter("comment", "Comment (optional)", lambda s: s.strip(),
                       placeholder="looking at it"),
)
ALERT_ACTIONS = (SILENCE, EXPIRE_SILENCE, ACKNOWLEDGE)

SCOPE_EXACT, SCOPE_RULE = "exact", "rule"


def _provider_of(source: str) -> str:
    return ALERTMANAGER_PROVIDER if source == ALERTMANAGER else ALERTS_PROVIDER


def silence_matchers(alert: Alert, scope: str) -> tuple[Matcher, ...]:
    """exact: every label of this alert; rule: only its alertname (all its instances)."""
    if scope == SCOPE_RULE:
        return (Matcher("alertname", "=", alert.name),)
    return tuple(Matcher(k, "=", v) for k, v in alert.labels)


def target_for_alert(spec_id: str, alert: Alert) -> ActionTarget | str:
    """The ActionTarget of silence or acknowledge for `alert`, or why it cannot be."""
    details = {"alert": alert.name, "state": alert.state, "source": alert.source,
               "fingerprint": alert.fingerprint}
    provider = _provider_of(alert.source)
    if spec_id == SILENCE.id:
        exact = ", ".join(str(m) for m in silence_matchers(alert, SCOPE_EXACT))
        options = (ActionOption(SCOPE_EXACT, f"this alert only: {exact}"),
                   ActionOption(SCOPE_RULE, f"every {alert.name} alert: alertname=\"{alert.name}\""))
        return ActionTarget("alert", alert.fingerprint, alert.name, details, options=options,
                            provider=provider)
    if spec_id == ACKNOWLEDGE.id:
        if alert.source == ALERTMANAGER:
            return "Alertmanager alerts cannot be acknowledged here; silence them instead"
        if alert.state == "resolved":
            return f"{alert.name} is resolved; nothing to acknowledge"
        if alert.acked_by:
            return f"{alert.name} is already acknowledged by {alert.acked_by}"
        return ActionTarget("alert", alert.fingerprint, alert.name, details, provider=provider)
    if spec_id == EXPIRE_SILENCE.id:
        if not alert.silenced_by:
            return f"{alert.name} is not silenced"
        return f"{alert.name} is silenced by {', '.join(alert.silenced_by)}: select the silence to expire it"
    return f"unknown alert action {spec_id}"


def target_for_silence(spec_id: str, silence: Silence, now: float) -> ActionTarget | str:
    if spec_id != EXPIRE_SILENCE.id:
        return "select an alert for this action"
    if silence.state(now) == "expired":
        return f"silence {silence.id} has expired already"
    details = {"matchers": ", ".join(str(m) for m in silence.matchers), "by": silence.created_by,
               "comment": silence.comment, "source": silence.source}
    return ActionTarget("silence", silence.id, silence.id[:8], details,
                        provider=_provider_of(silence.source))
