from django.urls import path

from o2c.insights import views

app_name = "insights"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("invoices/<int:document_id>/", views.invoice_detail, name="invoice_detail"),
    path("credit-review/", views.credit_review, name="credit_review"),
    path("forecast/", views.forecast, name="forecast"),
]
