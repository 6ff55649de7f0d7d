from django.apps import AppConfig


class CashAppConfig(AppConfig):
    name = "o2c.cashapp"
    label = "cashapp"
    verbose_name = "Cash application"
    nav_items = [("Cash queue", "cashapp:queue", "o2c.cashapp.selectors.works_cash")]
    # Bank statements open only for the people who work the cash queue.
    nav_checks = {"banking:statement_list": "o2c.cashapp.selectors.works_cash"}
    url_prefix = "cashapp/"
    api_prefix = "/cashapp/"
    # New statement lines are matched every 15 minutes; `o2c cashapp match` does it at once.
    beat_schedule = {
        "cashapp-match": {"task": "o2c.cashapp.tasks.run_matching_task", "schedule": 15 * 60.0}
    }
