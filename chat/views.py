"""Server-rendered pages: home, the customer chat page (also the widget's iframe), the widget
demo and the agent console. The pages are shells: their scripts talk to the public API and the
websockets (docs/protocol.md)."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.views.decorators.clickjacking import xframe_options_exempt

from chat.errors import ChatNotFound
from chat.protocol import staff_display_name
from chat.selectors import chat_for_transcript
from helpdesk.identity import identity_demo_tag
from helpdesk.roles import is_agent, is_supervisor
from helpdesk.selectors import ticket_open_count, topic_list_active_with_availability


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/home.html")


@xframe_options_exempt
def customer_chat(request: HttpRequest) -> HttpResponse:
    context = {
        # Each topic open now or not: the picker shows closed ones with their next opening.
        "topics": topic_list_active_with_availability(),
        "embed": request.GET.get("embed") == "1",
    }
    response = render(request, "chat/customer.html", context)
    # The widget embeds this page in an iframe on the allowed websites, and only there.
    ancestors = " ".join(["'self'", *settings.HELPDESK_WIDGET_ORIGINS])
    response["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    return response


def widget_demo(request: HttpRequest) -> HttpResponse:
    """A make-believe shop page that embeds the widget with its one script tag. With
    `?signed_in=1` its customer is logged in and the tag carries their signed identity."""
    signed_in = request.GET.get("signed_in") == "1"
    context = {"signed_in": signed_in, "identity": identity_demo_tag() if signed_in else None}
    return render(request, "chat/widget_demo.html", context)


@login_required
def console(request: HttpRequest) -> HttpResponse:
    if not is_agent(request.user):
        raise PermissionDenied("Only agents can use the console.")
    config = {
        "agent": {
            "id": request.user.pk,
            "name": staff_display_name(request.user),
            "is_supervisor": is_supervisor(request.user),
        },
        "login_url": f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.path})}",
    }
    context = {"console_config": config, "open_tickets": ticket_open_count()}
    return render(request, "chat/console.html", context)


@login_required
def console_transcript(request: HttpRequest, chat_id: int) -> HttpResponse:
    """A chat's conversation and internal notes for staff (the customer history links here)."""
    if not is_agent(request.user):
        raise PermissionDenied("Only agents can read transcripts.")
    try:
        chat, messages, notes = chat_for_transcript(chat_id=chat_id, agent=request.user)
    except ChatNotFound:
        raise Http404("No such chat.") from None
    context = {"chat": chat, "messages_": messages, "notes": notes}
    return render(request, "chat/console_transcript.html", context)
