"""Replicated databases: PostgreSQL streaming, Patroni, MySQL/MariaDB and
operator-managed clusters on Kubernetes, read into one topology model."""
