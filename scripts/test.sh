#!/usr/bin/env bash
# Runs every test on a fresh Debian 12 machine: installs what the tests need
# (tmux, PostgreSQL, Patroni, etcd, MariaDB, pgBackRest, Prometheus, Alertmanager and
# node exporter from Debian, the Python packages pinned in constraints.txt), checks
# lint and the dependency set, then runs pytest. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages for the real servers the tests start (none is started on install).
need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql-15)
command -v patroni >/dev/null 2>&1 || need_apt+=(patroni)
command -v etcd >/dev/null 2>&1 || need_apt+=(etcd-server etcd-client)
command -v mariadbd >/dev/null 2>&1 || need_apt+=(mariadb-server mariadb-client)
command -v pgbackrest >/dev/null 2>&1 || need_apt+=(pgbackrest)
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null 2>&1 || need_apt+=(prometheus-node-exporter)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_apt[@]}"
  else
    sudo apt-get update -q
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_apt[@]}"
  fi
fi

python3 -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
python3 -m pip check
python3 -m ruff check --no-cache .
python3 -m pytest "$@"
