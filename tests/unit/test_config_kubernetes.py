"""providers.kubernetes: off unless enabled, kubeconfig found the way kubectl finds it."""

from __future__ import annotations

from pathlib import Path

from config import Settings, load_settings


def _load(tmp_path: Path, body: str, env: dict[str, str] | None = None, **kwargs) -> Settings:
    path = tmp_path / "c.yaml"
    path.write_text(body)
    return load_settings(str(path), env={"HOME": str(tmp_path), **(env or {})}, **kwargs)


def test_kubernetes_is_off_unless_enabled(tmp_path: Path) -> None:
    assert _load(tmp_path, "role: viewer\n").providers.kubernetes is None


def test_kubeconfig_defaults_to_home_then_follows_kubeconfig_variable(tmp_path: Path) -> None:
    body = "providers:\n  kubernetes:\n    enabled: true\n"
    kube = _load(tmp_path, body).providers.kubernetes
    assert kube is not None
    assert kube.kubeconfig == (str(tmp_path / ".kube" / "config"),)
    assert kube.contexts == () and kube.namespaces == ()
    kube = _load(tmp_path, body, env={"KUBECONFIG": "/etc/a.yaml::/etc/b.yaml"}).providers.kubernetes
    assert kube is not None and kube.kubeconfig == ("/etc/a.yaml", "/etc/b.yaml")


def test_contexts_namespaces_and_describe(tmp_path: Path) -> None:
    body = ("providers:\n  kubernetes:\n    enabled: true\n    kubeconfig: [kube/a.yaml]\n"
            "    contexts: [prod, staging]\n    namespaces: [shop]\n")
    settings = _load(tmp_path, body)
    kube = settings.providers.kubernetes
    assert kube is not None
    assert kube.kubeconfig == (str(tmp_path / "kube" / "a.yaml"),)
    assert kube.contexts == ("prod", "staging")
    line = next(x for x in settings.describe() if x.startswith("k8s"))
    assert "prod, staging" in line and "namespaces shop" in line


def test_refresh_override_caps_how_often_watch_events_reach_the_screen(tmp_path: Path) -> None:
    body = "providers:\n  kubernetes:\n    enabled: true\n"
    settings = _load(tmp_path, body).with_overrides(refresh="2s")
    kube = settings.providers.kubernetes
    assert kube is not None and kube.refresh == 2.0
