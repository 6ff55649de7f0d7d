from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "o2c.disputes"
    label = "disputes"
    verbose_name = "Disputes and deductions"
    url_prefix = "disputes/"
    api_prefix = "/disputes/"
    nav_items = [("Disputes", "disputes:list")]
    work_item_subjects = {
        "disputes.case": "o2c.disputes.selectors.decision_url",
        "disputes.dispute": "o2c.disputes.selectors.decision_url",
        "disputes.writeoffrequest": "o2c.disputes.selectors.decision_url",
    }
