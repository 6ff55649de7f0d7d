from django.urls import path

from o2c.api.main import api

urlpatterns = [path("", api.urls)]
