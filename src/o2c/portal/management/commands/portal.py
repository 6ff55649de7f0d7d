"""`o2c portal`: print a sign-in link for a customer's contact, or send the statements."""

from django.core.management.base import BaseCommand, CommandError

from o2c.portal.mail import sign_in_url
from o2c.portal.models import LinkSource
from o2c.portal.notify import send_monthly_statements
from o2c.portal.services import portal_users_for


class Command(BaseCommand):
    help = "Print single-use portal sign-in links, or e-mail last month's statements now."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        link = commands.add_parser(
            "link", help="Print a sign-in link (valid 30 minutes) for each account of an address."
        )
        link.add_argument("email", help="A contact address of the customer.")
        link.add_argument("--customer", help="Only the account of this customer number.")
        commands.add_parser("statements", help="E-mail last month's statements to those who asked.")

    def handle(self, *args, **options):
        if options["action"] == "statements":
            self.stdout.write(f"{send_monthly_statements()} statements sent")
            return
        users = portal_users_for(options["email"])
        if options["customer"]:
            users = [user for user in users if user.customer.number == options["customer"]]
        if not users:
            raise CommandError(
                f"Contact {options['email']!r} not found or inactive"
                + (f" of customer {options['customer']}" if options["customer"] else "")
                + "; add the address to the customer's contacts first."
            )
        for user in users:
            url = sign_in_url(user, source=LinkSource.STAFF, long=False)
            self.stdout.write(f"{user.customer.number} {user.customer.name}: {url}")
