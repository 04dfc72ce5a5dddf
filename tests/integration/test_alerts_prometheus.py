"""PrometheusProvider against a real Prometheus scraping a real node exporter
(tests/support/prometheus.py), plus a local aiohttp server for what a healthy
Prometheus will not do on demand (hang, demand a token)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from config.model import PrometheusQuerySettings, PrometheusSettings
from providers.alerts import prometheus as prom_module
from providers.alerts.expr import parse
from providers.alerts.prometheus import PrometheusError, PrometheusProvider
from tests.support.prometheus import PromStack, free_ports, prom_stack, wait_for  # noqa: F401

UP = PrometheusQuerySettings("up", 'up{job="node"}', range=300.0, step=2.0)


def settings(url: str, *queries: PrometheusQuerySettings, timeout: float = 5.0,
             **kw: str) -> PrometheusSettings:
    return PrometheusSettings(url=url, queries=queries, interval=1.0, timeout=timeout, **kw)


@pytest.fixture
async def scraped(prom_stack: PromStack) -> PromStack:  # noqa: F811
    """The stack once Prometheus holds a few scrapes of the node exporter (history to backfill)."""
    await wait_for(lambda: prom_stack.series_exist('count_over_time(up{job="node"}[5m]) >= 3'), 30,
                   "three scrapes of the node exporter")
    return prom_stack


async def test_query_gives_labelled_series_backfilled_then_appended(scraped: PromStack) -> None:
    load = PrometheusQuerySettings("load", "node_load1", range=300.0, step=2.0)
    provider = PrometheusProvider(settings(scraped.prometheus_url, UP, load))
    try:
        first = await provider.poll()
        assert first.problems == ()
        assert first.url == scraped.prometheus_url
        up = next(s for s in first.series if s.query == "up")
        labels = dict(up.labels)
        assert labels["job"] == "node"
        assert labels["instance"] == scraped.node_exporter_url.split("://")[1]
        assert "__name__" not in labels
        assert up.value == 1.0
        assert len(up.times) >= 3, "the first poll backfills from a range query"
        assert len(up.times) == len(up.values) and list(up.times) == sorted(up.times)
        assert set(up.values) == {1.0}
        load = next(s for s in first.series if s.query == "load")
        assert load.value is not None and load.value >= 0
        assert "__name__" not in dict(load.labels)

        second = await provider.poll()
        up2 = next(s for s in second.series if s.query == "up")
        assert len(up2.times) == len(up.times) + 1, "later polls append their instant value"
        assert up2.times[-1] > up.times[-1]
        assert up2.times[:-1] == up.times

        samples = second.alert_samples("prometheus")
        mine = [s for s in samples if s.name == "prometheus.up"]
        assert mine and mine[0].labels == up.labels and mine[0].value == 1.0
        assert parse('prometheus.up{job="node"} < 1').select(samples) == mine
        assert second.metrics()[f"up{{{','.join(f'{k}={v}' for k, v in up.labels)}}}"] == 1.0
    finally:
        await provider.close()


async def test_history_is_bounded(scraped: PromStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prom_module, "MAX_POINTS", 4)
    up_query = PrometheusQuerySettings("up", 'up{job="node"}', range=300, step=1)
    provider = PrometheusProvider(settings(scraped.prometheus_url, up_query))
    try:
        lengths = []
        for _ in range(8):
            snapshot = await provider.poll()
            (up,) = snapshot.series
            lengths.append(len(up.times))
            await asyncio.sleep(0.01)  # instant queries a millisecond apart share a timestamp
        assert max(lengths) == 4 and lengths[-1] == 4, lengths
    finally:
        await provider.close()


async def test_a_failing_query_is_a_problem_line_and_the_others_still_count(scraped: PromStack) -> None:
    provider = PrometheusProvider(settings(
        scraped.prometheus_url, UP,
        PrometheusQuerySettings("broken", "sum(up"),
        PrometheusQuerySettings("ranged", "up[1m]"),
        PrometheusQuerySettings("two", "1 + 1"),
        PrometheusQuerySettings("nan", "vector(0) / 0"),
    ))
    try:
        snapshot = await provider.poll()
        by_query = {s.query: s for s in snapshot.series}
        assert set(by_query) == {"up", "two"}, "the NaN result is skipped, the failures give nothing"
        assert by_query["two"].labels == () and by_query["two"].value == 2.0
        broken = [p for p in snapshot.problems if "broken" in p]
        assert len(broken) == 1 and broken[0].startswith("query broken: HTTP 400: ")
        assert "parse error" in broken[0]
        assert any(p == "query ranged returns a range vector; use an instant expression "
                        "(drop the [range] selector or wrap it in a function like rate())"
                   for p in snapshot.problems)
        assert len(snapshot.problems) == 2
        assert all("\n" not in p for p in snapshot.problems)
        assert (await provider.poll()).problems == snapshot.problems
    finally:
        await provider.close()


async def test_ad_hoc_query(scraped: PromStack) -> None:
    provider = PrometheusProvider(settings(scraped.prometheus_url))
    try:
        series = await provider.query('up{job="node"}')
        assert [s.value for s in series] == [1.0]
        assert dict(series[0].labels)["job"] == "node"
        with pytest.raises(PrometheusError, match=r"^query sum\(: HTTP 400: .*parse error"):
            await provider.query("sum(")
        empty = await provider.poll()
        assert empty.series == () and "no queries configured" in empty.problems[0]
    finally:
        await provider.close()


async def test_unreachable_prometheus_fails_in_one_line_without_credentials() -> None:
    (port,) = free_ports(1)
    provider = PrometheusProvider(settings(f"http://scraper:s3cret@127.0.0.1:{port}", UP,
                                           PrometheusQuerySettings("load", "node_load1")))
    try:
        with pytest.raises(PrometheusError) as caught:
            await provider.poll()
        message = str(caught.value)
        assert message == f"Prometheus at http://127.0.0.1:{port}: connection refused"
    finally:
        await provider.close()


# --- what a healthy Prometheus will not do on demand ------------------------------------------------

@pytest.fixture
async def odd_prometheus() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """Answers query "1" at once, hangs on "slow", wants `Bearer tok` (else 401)."""
    seen: list[dict[str, str]] = []

    async def query(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        if request.headers.get("Authorization") != "Bearer tok":
            return web.Response(status=401, text="Unauthorized")
        expr = request.query.get("query", "")
        if expr == "slow":
            await asyncio.sleep(30)
        data = ({"resultType": "matrix", "result": [{"metric": {}, "values": [[time.time() - 1, "1"]]}]}
                if request.path.endswith("query_range") else
                {"resultType": "scalar", "result": [time.time(), "1"]})
        return web.json_response({"status": "success", "data": data})

    app = web.Application()
    app.router.add_get("/api/v1/query", query)
    app.router.add_get("/api/v1/query_range", query)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    (port,) = free_ports(1)
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_a_slow_query_times_out_alone(odd_prometheus: tuple[str, list[dict[str, str]]]) -> None:
    url, seen = odd_prometheus
    provider = PrometheusProvider(settings(url, PrometheusQuerySettings("fast", "1"),
                                           PrometheusQuerySettings("slow", "slow"), timeout=0.5,
                                           bearer_token="tok"))
    try:
        started = time.monotonic()
        snapshot = await provider.poll()
        assert time.monotonic() - started < provider.timeout
        assert [(s.query, s.value) for s in snapshot.series] == [("fast", 1.0)]
        assert snapshot.problems == ("query slow: no answer within 0.5 s",)
        assert {h.get("Authorization") for h in seen} == {"Bearer tok"}
    finally:
        await provider.close()


async def test_refused_token_says_so_without_the_token(odd_prometheus: tuple[str, list[dict[str, str]]]
                                                       ) -> None:
    url, _ = odd_prometheus
    fast = PrometheusQuerySettings("fast", "1")
    provider = PrometheusProvider(settings(url, fast, bearer_token="wrong-tok"))
    try:
        with pytest.raises(PrometheusError) as caught:
            await provider.poll()
        assert str(caught.value) == f"Prometheus at {url}: refused the credentials (HTTP 401)"
    finally:
        await provider.close()
    anonymous = PrometheusProvider(settings(url, fast))
    try:
        with pytest.raises(PrometheusError, match=r"HTTP 401.*set username/password or bearer_token"):
            await anonymous.poll()
    finally:
        await anonymous.close()
