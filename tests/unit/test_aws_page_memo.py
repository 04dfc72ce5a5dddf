"""The parse-skipping memo: what makes two pages "the same", and fast timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from providers.aws.page_memo import fast_timestamp, page_digest


def test_pages_differing_only_in_request_id_have_one_digest() -> None:
    a = b"<R><requestId>1111-aaaa</requestId><reservationSet><item>i-1</item></reservationSet></R>"
    b = b"<R><requestId>2222-bbbb</requestId><reservationSet><item>i-1</item></reservationSet></R>"
    c = b"<R><requestId>2222-bbbb</requestId><reservationSet><item>i-2</item></reservationSet></R>"
    assert page_digest(a) == page_digest(b) != page_digest(c)


def test_fast_timestamp_reads_aws_shapes_and_falls_back() -> None:
    assert fast_timestamp("2026-11-22T10:26:28.000Z") == datetime(2026, 11, 22, 10, 26, 28, tzinfo=UTC)
    assert fast_timestamp("2026-11-22T10:26:28+00:00").tzinfo is not None
    assert fast_timestamp("2026-11-22T10:26:28").tzinfo is UTC  # naive means UTC
    assert fast_timestamp("1795339786") == datetime.fromtimestamp(1795339786, UTC)  # epoch: botocore's path
