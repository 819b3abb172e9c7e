"""Server-rendered pages: the customer chat page (also the widget's iframe) and the console."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt

from helpdesk.roles import is_agent
from helpdesk.selectors import topic_list_active


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/home.html")


@xframe_options_exempt
def customer_chat(request: HttpRequest) -> HttpResponse:
    response = render(request, "chat/customer.html", {"topics": topic_list_active()})
    # The widget embeds this page in an iframe on the allowed websites, and only there.
    ancestors = " ".join(["'self'", *settings.HELPDESK_WIDGET_ORIGINS])
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


@login_required
def console(request: HttpRequest) -> HttpResponse:
    if not is_agent(request.user):
        raise PermissionDenied("Only agents can use the console.")
    return render(request, "chat/console.html")
