"""o2c: an Order-to-Cash platform."""

from .celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
