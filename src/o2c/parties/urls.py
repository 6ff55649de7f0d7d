from django.urls import path

from o2c.parties import views

app_name = "parties"
urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("<int:customer_id>/", views.customer_detail, name="customer_detail"),
]
