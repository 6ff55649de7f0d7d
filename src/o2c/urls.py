"""URL configuration: sign-in, admin, the API, then each module's pages.

A module publishes pages by defining `urlpatterns` (with `app_name`) in
`o2c/<module>/urls.py` and naming its URL prefix in its AppConfig as `url_prefix`.
"""

from importlib.util import find_spec

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from o2c.core.signin import AdminSignInForm
from o2c.core.views import PasswordChangeDoneView, PasswordChangeView, SignInView

# The administration site signs people in under the same limit as the application.
admin.site.login_form = AdminSignInForm

urlpatterns = [
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("api/", include("o2c.api.urls")),
]

# Longer prefixes first, so that the dashboard's "" prefix comes last.
_modules = sorted(
    (
        config
        for config in apps.get_app_configs()
        if getattr(config, "url_prefix", None) is not None
        and find_spec(f"{config.name}.urls") is not None
    ),
    key=lambda config: len(config.url_prefix),
    reverse=True,
)
urlpatterns += [path(config.url_prefix, include(f"{config.name}.urls")) for config in _modules]
