"""Kubernetes failures as one line that says what to fix."""

from __future__ import annotations

import socket

import urllib3.exceptions

from providers.k8s.client import ContextError, KubeApiError, ReadOnlyViolation


def explain(exc: BaseException, *, verb: str = "", resource: str = "", namespace: str | None = None,
            host: str = "") -> str:
    """`verb`/`resource`/`namespace` say what we were doing, for a 403's message."""
    if isinstance(exc, ContextError | ReadOnlyViolation):
        return str(exc)
    if isinstance(exc, KubeApiError):
        return _api(exc, verb, resource, namespace, host)
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return explain(exc.reason, verb=verb, resource=resource, namespace=namespace, host=host)
    where = f" at {host}" if host else ""
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError | socket.timeout):
        return f"API server{where} did not answer in time — is it overloaded, or the network slow?"
    if isinstance(exc, urllib3.exceptions.NewConnectionError | ConnectionError):
        return (f"API server unreachable{where}: {_short(exc)} — check the cluster address, "
                "VPN or tunnel")
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return f"connection to the API server{where} dropped: {_short(exc)}"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return f"TLS to the API server{where} failed: {_short(exc)} — check the kubeconfig's CA"
    return f"{type(exc).__name__}: {_short(exc)}"


def _api(exc: KubeApiError, verb: str, resource: str, namespace: str | None, host: str) -> str:
    where = f"in namespace {namespace}" if namespace else "at cluster scope"
    if exc.status == 401:
        return ("unauthorized (401): the API server refused our credentials — renew the token "
                "or certificate in the kubeconfig")
    if exc.status == 403:
        what = f"{verb} {resource} {where}" if resource else "do that"
        return f"forbidden: cannot {what} — ask for RBAC {verb or 'access'} on {resource or 'it'}"
    if exc.status == 404 and resource:
        return f"{resource} not found on this API server (404): {exc.message or exc.reason}"
    if exc.status == 410:
        return "resource version too old (410 Gone): listing again"
    if exc.status == 429:
        return "the API server is throttling us (429): backing off"
    if exc.status >= 500:
        return f"API server error {exc.status}: {_first_line(exc.message) or exc.reason}"
    return f"HTTP {exc.status}: {_first_line(exc.message) or exc.reason}"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _short(exc: BaseException) -> str:
    text = _first_line(str(exc)) or type(exc).__name__
    # urllib3 wraps "[Errno 111] Connection refused" in a long repr: keep the errno part.
    if "Errno" in text:
        text = text[text.index("[Errno"):].rstrip(")'\"")
    return text[:160]
