"""Kubernetes: list+watch informers per context, records, actions and logs."""
