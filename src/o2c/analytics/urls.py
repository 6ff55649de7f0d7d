from django.urls import path

from o2c.analytics import views

app_name = "analytics"
urlpatterns = [path("", views.dashboard, name="dashboard")]
