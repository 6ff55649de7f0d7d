from django.urls import path

from o2c.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.endpoint_list, name="endpoint_list"),
    path("<int:endpoint_id>/", views.endpoint_detail, name="endpoint_detail"),
    path("<int:endpoint_id>/action/", views.endpoint_action, name="endpoint_action"),
    path("deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:delivery_id>/redeliver/", views.redeliver, name="redeliver"),
]
