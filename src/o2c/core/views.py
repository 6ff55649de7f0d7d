"""Sign-in pages: Django's views with o2c's sign-in rules (see o2c.core.signin)."""

from django.contrib.auth import views as auth_views

from o2c.core.models import UserSettings
from o2c.core.signin import NewPasswordForm, SignInForm


class SignInView(auth_views.LoginView):
    authentication_form = SignInForm


class PasswordChangeView(auth_views.PasswordChangeView):
    # The admin app ships templates under the registration/ names Django looks up by
    # default, and it is installed first, so o2c's pages need names of their own.
    form_class = NewPasswordForm
    template_name = "core/password_change_form.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        UserSettings.objects.filter(user=self.request.user).update(must_change_password=False)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "core/password_change_done.html"
