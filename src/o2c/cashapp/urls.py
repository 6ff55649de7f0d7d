from django.urls import path

from o2c.cashapp import views

app_name = "cashapp"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("lines/<int:line_id>/", views.line_detail, name="line_detail"),
    path("lines/<int:line_id>/search/", views.search_items, name="search_items"),
    path("lines/<int:line_id>/accept/<int:suggestion_id>/", views.accept, name="accept"),
    path("lines/<int:line_id>/split/", views.split, name="split"),
    path("lines/<int:line_id>/on-account/", views.on_account, name="on_account"),
    path("lines/<int:line_id>/refund/", views.refund, name="refund"),
    path("lines/<int:line_id>/return/", views.return_to_payer, name="return"),
    path("rules/<str:entity_code>/", views.rules, name="rules"),
]
