"""Staff downloads of a chat's transcript (HTML or plain text): the same bodies as the
customer's transcript email, so what staff download is what the customer got."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from chat.errors import ChatNotFound
from chat.selectors import chat_for_transcript
from helpdesk.roles import is_agent
from transcripts import emails, selectors

# The format in the URL (`transcript.<ext>`) -> content type; nothing else is served.
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "txt": "text/plain; charset=utf-8"}


def download_filename(*, chat_id: int, started: str, ext: str) -> str:
    """Built only from the id, an ISO date and our own extension: nothing a customer typed
    (their name, the topic) reaches the header, so no quoting or encoding can go wrong."""
    return f"transcript-chat-{chat_id}-{started}.{ext}"


@never_cache  # Personal data: no shared or browser cache keeps a copy.
@require_GET
@login_required
def transcript_download(request: HttpRequest, chat_id: int, ext: str) -> HttpResponse:
    """The transcript as an attachment, for the staff who may open the staff transcript page
    (same rule: chat.selectors.chat_for_transcript). Internal notes are left out: the bodies
    are the customer's email's."""
    if not is_agent(request.user):
        raise PermissionDenied("Only agents can download transcripts.")
    if ext not in CONTENT_TYPES:
        raise Http404("No such format.")
    try:
        chat, _, _ = chat_for_transcript(chat_id=chat_id, agent=request.user)
    except ChatNotFound:
        raise Http404("No such chat.") from None
    text, html = emails.transcript_parts(selectors.transcript_for_customer(chat_id=chat.pk))
    started = timezone.localtime(chat.created_at).date().isoformat()
    response = HttpResponse(html if ext == "html" else text, content_type=CONTENT_TYPES[ext])
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=download_filename(chat_id=chat.pk, started=started, ext=ext)
    )
    return response
