from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from o2c.core.models import ApiToken


class Command(BaseCommand):
    help = "API tokens: create one for a user (shown once), list them, or revoke one."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="action", required=True)
        create = subcommands.add_parser("create", help="Create a token acting as the user.")
        create.add_argument("username")
        create.add_argument("--name", default="API client", help="What the token is for.")
        listing = subcommands.add_parser("list", help="List a user's tokens.")
        listing.add_argument("username")
        revoke = subcommands.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "revoke":
            count = ApiToken.objects.filter(
                prefix=options["prefix"], revoked_at__isnull=True
            ).update(revoked_at=timezone.now())
            if not count:
                raise CommandError(f"No active token starts with {options['prefix']!r}.")
            self.stdout.write(f"Revoked {count} token(s).")
            return
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"User {options['username']!r} does not exist.")
        if action == "create":
            token, raw = ApiToken.issue(user, options["name"])
            self.stdout.write(f"Token {token.name!r} for {user.username} (shown once):\n{raw}")
        else:
            for token in user.api_tokens.order_by("created_at"):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.prefix}…  {token.name}  {state}  created {token.created_at:%Y-%m-%d}"
                )
