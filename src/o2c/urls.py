from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from o2c.core.views import PasswordChangeView

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("api/", include("o2c.api.urls")),
    path("customers/", include("o2c.parties.urls")),
    path("", include("o2c.analytics.urls")),
]
