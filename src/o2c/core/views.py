"""Sign-in pages: Django's views with o2c's sign-in rules (see o2c.core.signin)."""

from django.contrib.auth import views as auth_views

from o2c.core.models import UserSettings
from o2c.core.signin import NewPasswordForm, SignInForm


class SignInView(auth_views.LoginView):
    authentication_form = SignInForm


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = NewPasswordForm

    def form_valid(self, form):
        response = super().form_valid(form)
        UserSettings.objects.filter(user=self.request.user).update(must_change_password=False)
        return response
