"""Request middleware shared by every page."""

import logging

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from o2c.core.errors import O2CError

logger = logging.getLogger(__name__)


class PasswordChangeRequiredMiddleware:
    """Send a person signed in with a one-time password to the password change page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and _must_change_password(user):
            allowed = {
                reverse("password_change"),
                reverse("password_change_done"),
                reverse("logout"),
            }
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect("password_change")
        return self.get_response(request)


def _must_change_password(user) -> bool:
    user_settings = getattr(user, "o2c_settings", None)
    return bool(user_settings and user_settings.must_change_password)


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy of the settings with every HTML page.

    A page that sets its own policy (a PDF preview, say) keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", policy)
        return response


class O2CErrorMiddleware:
    """Show an o2c error that a page did not handle as a message, not a server error.

    Services raise `O2CError` with a message written for the person who can fix the
    cause. A view that does not catch one still responds with that message (status 400),
    and the event is logged with the path and the error code.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, O2CError):
            return None
        logger.warning("Request %s rejected: %s (%s)", request.path, exception.code, exception)
        if getattr(request, "htmx", False):
            return HttpResponse(exception.message, status=400, content_type="text/plain")
        return render(request, "core/error.html", {"error": exception}, status=400)
