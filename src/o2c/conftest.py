"""Fixtures for every module's tests that depend on rows seeded by data migrations."""

import pytest


@pytest.fixture(autouse=True)
def seeded_rows_after_flush(request):
    """Reload the rows data migrations seed before each transactional test.

    A transactional test (browser tests, `transaction=True`) ends with a flush of every
    table, which also removes the tax rules the billing data migration seeded, so any
    transactional test after it would find no tax rate. Loading the shipped rules is
    idempotent, so doing it before each such test is safe.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from o2c.billing.rules import load_rules

    load_rules()
