from o2c.orders.tests.conftest import catalogue, credit_team, place, rates_today  # noqa: F401
