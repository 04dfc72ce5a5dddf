"""Costs: spend from Cost Explorer, budgets, the waste finder and Kubernetes cost per namespace."""
