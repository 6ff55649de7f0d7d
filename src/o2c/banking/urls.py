from django.urls import path

from o2c.banking import views

app_name = "banking"
urlpatterns = [
    path("", views.statement_list, name="statement_list"),
    path("<int:statement_id>/", views.statement_detail, name="statement_detail"),
]
