from django.urls import path

from o2c.disputes import views

app_name = "disputes"
urlpatterns = [
    path("", views.dispute_list, name="list"),
    path("report/", views.report, name="report"),
    path("new/<int:customer_id>/", views.new_dispute, name="new"),
    path("<int:dispute_id>/", views.detail, name="detail"),
    path("<int:dispute_id>/evidence/", views.upload_evidence, name="evidence"),
    path(
        "<int:dispute_id>/evidence/<int:attachment_id>/", views.download_evidence, name="download"
    ),
    path("<int:dispute_id>/resolve/", views.resolve, name="resolve"),
    path("write-offs/<int:request_id>/decide/", views.decide, name="decide"),
]
