"""The REST API: one NinjaAPI, a router per module, errors as {code, message}."""

import logging

from ninja import NinjaAPI

from o2c.api.auth import API_AUTH
from o2c.core.errors import O2CError

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="o2c API",
    version="1",
    description="Receivables, KPIs and the order-to-cash cycle. Authenticate with "
    "'Authorization: Bearer <token>' (create a token with `o2c token create`).",
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(O2CError)
def o2c_error(request, error: O2CError):
    return api.create_response(request, error.as_dict(), status=400)


def _register_routers() -> None:
    from o2c.analytics.api import router as analytics_router
    from o2c.parties.api import router as parties_router

    api.add_router("/customers/", parties_router, tags=["customers"])
    api.add_router("/kpis/", analytics_router, tags=["kpis"])


_register_routers()
