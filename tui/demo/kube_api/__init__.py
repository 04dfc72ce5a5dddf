"""A test Kubernetes API server that speaks the REST + watch protocol, and the
generated clusters it serves to tests, benchmarks and `--demo`.

It lives under tui/demo (not tests/) because the installed `--demo` serves it.
"""
