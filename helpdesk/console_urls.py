"""The console's ticket pages, under /console/tickets/ (included by helpdesk.urls)."""

from django.urls import path

from helpdesk import views

app_name = "helpdesk"

urlpatterns = [
    path("", views.ticket_list, name="ticket-list"),
    path("<int:ticket_id>/", views.ticket_detail, name="ticket-detail"),
    path("<int:ticket_id>/close/", views.ticket_close, name="ticket-close"),
]
