from django.urls import path

from o2c.billing import views

app_name = "billing"
urlpatterns = [
    path("", views.invoice_list, name="invoice_list"),
    path("<int:invoice_id>/", views.invoice_detail, name="invoice_detail"),
    path("<int:invoice_id>/post/", views.post, name="invoice_post"),
    path("<int:invoice_id>/send/", views.send, name="invoice_send"),
    path("<int:invoice_id>/credit/", views.credit, name="invoice_credit"),
    path("<int:invoice_id>/<str:kind>/", views.invoice_file, name="invoice_file"),
    path(
        "credit-notes/<int:credit_note_id>/<str:kind>/",
        views.credit_note_file,
        name="credit_note_file",
    ),
    path("customers/<int:customer_id>/", views.customer_invoices, name="customer_invoices"),
]
