"""The supervisors' live page (/admin/live/): the shell; the data comes over /ws/supervise/."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from helpdesk.roles import is_supervisor


@login_required(login_url="admin:login")
def live_page(request: HttpRequest) -> HttpResponse:
    # The page lives in the admin, so it needs admin access (staff) besides the role.
    if not (request.user.is_staff and is_supervisor(request.user)):
        raise PermissionDenied("The live page is for supervisors.")
    context = {
        **admin.site.each_context(request),
        "title": "Live monitoring",
        "socket_path": "/ws/supervise/",
        "console_url": "/console/",
    }
    return render(request, "admin/live.html", context)
