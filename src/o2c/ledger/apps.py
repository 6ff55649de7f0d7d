from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "o2c.ledger"
    label = "ledger"
    verbose_name = "Receivables ledger"
