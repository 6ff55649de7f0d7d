"""API authentication: a bearer token, or the browser session of a signed-in person."""

from django.utils import timezone
from ninja.security import HttpBearer, django_auth

from o2c.core.models import ApiToken, hash_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        found = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        return found.user


API_AUTH = [TokenAuth(), django_auth]
