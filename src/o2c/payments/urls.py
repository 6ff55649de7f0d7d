from django.urls import path

from o2c.payments import views

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="payment_list"),
    path("<int:payment_id>/", views.payment_detail, name="payment_detail"),
    path("<int:payment_id>/refund/", views.refund, name="refund"),
    path("direct-debits/", views.direct_debits, name="direct_debits"),
    path("direct-debits/files/", views.create_collection_file, name="create_collection_file"),
    path(
        "direct-debits/files/<int:file_id>/",
        views.collection_file_download,
        name="collection_file",
    ),
    path("direct-debits/returns/", views.upload_returns, name="upload_returns"),
    path("payouts/", views.upload_payouts, name="upload_payouts"),
    path("webhooks/<str:gateway>/", views.gateway_webhook, name="gateway_webhook"),
]
