from django.urls import path

from o2c.teams import views

app_name = "teams"
urlpatterns = [
    path("", views.my_work, name="my_work"),
    path("<int:item_id>/", views.item_detail, name="item_detail"),
    path("<int:item_id>/comment/", views.comment, name="comment"),
    path("<int:item_id>/reassign/", views.reassign, name="reassign"),
    path("<int:item_id>/hand-off/", views.hand_off, name="hand_off"),
    path("<int:item_id>/state/", views.change_state, name="change_state"),
    path("notifications/", views.notifications, name="notifications"),
    path("absences/", views.absences, name="absences"),
    path("teams/<int:team_id>/", views.team_queue, name="team_queue"),
    path("leaders/", views.leaders, name="leaders"),
    path("leaders/<int:team_id>/targets/", views.set_target_view, name="set_target"),
    path("leaders/<int:team_id>/drill/", views.drill, name="drill"),
]
