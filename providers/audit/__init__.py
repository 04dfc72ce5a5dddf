"""The audit trail: every action attempted, one hash-chained JSON line each.

log.py appends (durable, rotated, one chain across processes), verify.py proves the
chain whole or names where it was edited, cut or reordered, query.py reads it back.
"""
