"""The one parser of Slack's Retry-After header, used by the client's inline retry and by the outbox's delay."""

from bot.slack.transport import retry_after


def test_retry_after_reads_the_header_whatever_its_case_or_shape():
    assert retry_after({"Retry-After": "30"}, missing=1.0) == 30.0
    assert retry_after({"retry-after": ["2"]}, missing=1.0) == 2.0
    assert retry_after({"Content-Type": "application/json"}, missing=1.0) == 1.0
    assert retry_after(None, missing=0.0) == 0.0
    assert retry_after({"Retry-After": "soon"}, missing=1.0) is None
    assert retry_after({"Retry-After": "-1"}, missing=1.0) is None and retry_after({"Retry-After": "nan"}, missing=1.0) is None
