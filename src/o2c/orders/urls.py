from django.urls import path

from o2c.orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("new/", views.order_new, name="order_new"),
    path("new/line/", views.order_line_row, name="order_line_row"),
    path("upload/", views.order_upload, name="order_upload"),
    path("edi/", views.edi_upload, name="edi_upload"),
    path("edi/<int:interchange_id>/855/", views.edi_acknowledgment, name="edi_acknowledgment"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("customer/<int:customer_id>/", views.customer_orders, name="customer_orders"),
    path("<int:order_id>/", views.order_detail, name="order_detail"),
    path("<int:order_id>/submit/", views.order_submit, name="order_submit"),
    path("<int:order_id>/cancel/", views.order_cancel, name="order_cancel"),
    path("<int:order_id>/reopen/", views.order_reopen, name="order_reopen"),
    path("<int:order_id>/ship/", views.order_ship, name="order_ship"),
    path("<int:order_id>/change/", views.order_change, name="order_change"),
    path("<int:order_id>/invoice/", views.order_invoice, name="order_invoice"),
]
