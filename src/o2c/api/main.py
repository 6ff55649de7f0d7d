"""The REST API: one NinjaAPI, a router per module, errors as {code, message}.

A module publishes endpoints by defining `router` in `o2c/<module>/api.py` and naming
its URL prefix in its AppConfig as `api_prefix` (e.g. "/customers/").
"""

import logging
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
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
    for config in apps.get_app_configs():
        prefix = getattr(config, "api_prefix", None)
        if prefix is None or find_spec(f"{config.name}.api") is None:
            continue
        module = import_module(f"{config.name}.api")
        api.add_router(prefix, module.router, tags=[config.label])


_register_routers()
