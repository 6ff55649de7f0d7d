from django.urls import path

from o2c.credit import views

app_name = "credit"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("orders/<int:order_id>/", views.hold_detail, name="hold_detail"),
    path("customers/<int:customer_id>/", views.customer_credit, name="customer_credit"),
    path("customers/<int:customer_id>/limit/", views.customer_limit, name="customer_limit"),
    path("customers/<int:customer_id>/block/", views.customer_block, name="customer_block"),
    path("customers/<int:customer_id>/review/", views.customer_review, name="customer_review"),
]
