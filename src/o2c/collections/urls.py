from django.urls import path

from o2c.collections import views

app_name = "collections"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("customers/<int:customer_id>/", views.customer_panel, name="customer"),
    path("customers/<int:customer_id>/contact/", views.log_contact_view, name="log_contact"),
    path("customers/<int:customer_id>/promise/", views.promise_view, name="promise"),
    path("promises/", views.promise_list, name="promises"),
    path("aging/", views.aging, name="aging"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/preview/", views.run_preview, name="run_preview"),
    path("runs/execute/", views.run_execute, name="run_execute"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("notices/<int:notice_id>/letter/", views.notice_letter, name="notice_letter"),
    path("holds/<int:hold_id>/release/", views.release_hold_view, name="release_hold"),
]
