"""Sign-in pages: Django's views, plus clearing the one-time password flag."""

from django.contrib.auth import views as auth_views

from o2c.core.models import UserSettings


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        UserSettings.objects.filter(user=self.request.user).update(must_change_password=False)
        return response
