from celery.schedules import crontab
from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "o2c.payments"
    label = "payments"
    verbose_name = "Payments"
    url_prefix = "payments/"
    api_prefix = "/payments/"
    nav_items = [("Payments", "payments:payment_list")]
    beat_schedule = {
        "payments-expire-abandoned-checkouts": {
            "task": "o2c.payments.tasks.expire_abandoned_payments_task",
            "schedule": crontab(minute="*/15"),
        },
        # Hourly, so each entity's collection date is booked soon after its midnight.
        "payments-book-collected-debits": {
            "task": "o2c.payments.tasks.book_collected_debits_task",
            "schedule": crontab(minute=10),
        },
    }

    def ready(self):
        from django.apps import apps

        if apps.is_installed("o2c.cashapp"):
            from o2c.cashapp.signals import bank_credit_received
            from o2c.payments.bank_lines import settle_payout_line

            bank_credit_received.connect(settle_payout_line, dispatch_uid="payments_payouts")
