"""Backup providers from settings: one per target, each with its source, the
shared verification log and, for pg_dump and pgBackRest sources with `verify`
configured, a restore tester. Drivers and SDKs load only for sources in use."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.model import BackupSettings, BackupTargetSettings, KubernetesSettings, Settings
from providers.backups.model import Backup, Source, Verification
from providers.backups.provider import BackupTargetProvider


def build_backup_providers(settings: Settings, *, read_only: bool) -> list[BackupTargetProvider]:
    backups = settings.backups
    if not backups.targets:
        return []
    from providers.backups.verifications import VerificationLog

    history = VerificationLog(backups.verification_log)
    factory = _SourceFactory(settings, read_only)
    out = []
    for target in backups.targets:
        source = factory.source(target)
        out.append(BackupTargetProvider(target, source, history, target_zone(target),
                                        verifier=verifier_for(target, source, backups)))
    return out


def target_zone(target: BackupTargetSettings) -> tzinfo:
    """The configured zone, else the machine's as a real zone (a fixed offset would
    put backups in the wrong day after a DST change)."""
    if target.timezone:
        return ZoneInfo(target.timezone)
    return local_zone()


def local_zone() -> tzinfo:
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    try:
        link = os.readlink("/etc/localtime")
        candidates.append(link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else "")
    except OSError:
        pass
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return UTC


class _SourceFactory:
    """Builds sources, sharing one AWS client set per account and one Kubernetes
    client per context across targets."""

    def __init__(self, settings: Settings, read_only: bool) -> None:
        self.settings = settings
        self.read_only = read_only
        self._accounts: dict[str, Any] = {}
        self._kube: dict[str | None, Any] = {}

    def aws(self, account: str | None) -> Any:
        aws = self.settings.providers.aws
        if aws is None:
            raise ValueError("backups: AWS sources need providers.aws")
        if account not in self._accounts:
            from providers.aws.session import AccountClients

            found = next((a for a in aws.accounts if a.name == account), None)
            if found is None:  # the schema checks this; a hand-built Settings may not
                known = ", ".join(a.name for a in aws.accounts)
                raise ValueError(f"backups: unknown AWS account {account!r} (known: {known})")
            self._accounts[account] = AccountClients(found, read_only=self.read_only,
                                                     max_attempts=aws.max_attempts)
        return self._accounts[account]

    def kube(self, context: str | None) -> Any:
        kube = self.settings.providers.kubernetes
        if kube is None:
            raise ValueError("backups: Kubernetes sources need providers.kubernetes")
        if context not in self._kube:
            self._kube[context] = _LazyKubeClient(kube, context, self.read_only)
        return self._kube[context]

    def source(self, target: BackupTargetSettings) -> Source:
        src = target.source
        if src.kind == "ebs":
            from providers.backups.aws_sources import EbsSnapshotSource

            return EbsSnapshotSource(src, self.aws(src.account), target.name)
        if src.kind == "rds":
            from providers.backups.aws_sources import RdsSnapshotSource

            return RdsSnapshotSource(src, self.aws(src.account), target.name)
        if src.kind == "aws_backup":
            from providers.backups.aws_sources import AwsBackupSource

            return AwsBackupSource(src, self.aws(src.account), target.name)
        if src.kind == "kubernetes":
            from providers.backups.kube_snapshots import VolumeSnapshotSource

            return VolumeSnapshotSource(src, self.kube(src.context), target.name)
        if src.kind == "pgbackrest":
            from providers.backups.pgbackrest import PgBackRestSource

            return PgBackRestSource(src, target.timeout)
        if src.kind == "dumps":
            from providers.backups.dumps import DumpFilesSource

            clients = (lambda: self.aws(src.account)) if src.bucket else None
            backups = self.settings.backups
            return DumpFilesSource(src, target.name, clients, pg_bin_dir=backups.pg_bin_dir,
                                   tmp_dir=backups.scratch_dir)
        raise ValueError(f"unknown backup source {src.kind!r}")


def verifier_for(target: BackupTargetSettings, source: Source,
                 backups: BackupSettings) -> Callable[[Backup], Verification] | None:
    """A restore test for pg_dump files and pgBackRest, when the target configures `verify`."""
    verify = target.verify
    if verify is None:
        return None
    kind = target.source.kind
    if kind == "dumps" and target.source.format == "pg_dump":
        def verify_dump(backup: Backup) -> Verification:
            return source.verify(backup, verify, backups)  # type: ignore[attr-defined,no-any-return]

        return verify_dump
    if kind == "pgbackrest":
        def verify_pgbackrest(backup: Backup) -> Verification:
            from providers.backups.verify import verify_restored_dir

            return verify_restored_dir(
                lambda directory: source.restore_to(  # type: ignore[attr-defined]
                    backup.id, directory, timeout=verify.timeout),
                verify, backups, target=target.name, backup_id=backup.id)

        return verify_pgbackrest
    return None


class _LazyKubeClient:
    """A KubeClient built on first use: a missing kubeconfig or context becomes the
    target's one-line poll error, not a failure to start (or to run `stacktop check`)."""

    def __init__(self, settings: KubernetesSettings, context: str | None, read_only: bool) -> None:
        self._settings = settings
        self._context = context
        self._read_only = read_only
        self._client: Any = None

    def _build(self) -> Any:
        if self._client is None:
            from providers.k8s.client import KubeClient, build_api_client, context_names

            name = self._context or context_names(self._settings)[0]
            self._client = KubeClient(name, build_api_client(self._settings, name),
                                      read_only=self._read_only, timeout=self._settings.timeout)
        return self._client

    @property
    def context(self) -> str:
        return self._client.context if self._client is not None else (self._context or "current context")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._build(), name)
