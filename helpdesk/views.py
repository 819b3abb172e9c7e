from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views import defaults
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk import selectors, services
from helpdesk.api.errors import json_not_found, json_server_error
from helpdesk.articles import article_html, article_renderings
from helpdesk.errors import DomainError, TicketClosed
from helpdesk.forms import ArticleSearchForm, TicketReplyForm
from helpdesk.models import Ticket
from helpdesk.roles import is_agent

API_PREFIX = "/api/"


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)  # type: ignore[arg-type]


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's own 400s (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a bad
    Host) happen before any view: API clients get them in the API's error format too."""
    if not request.path.startswith(API_PREFIX):
        return defaults.bad_request(request, exception)  # type: ignore[arg-type]
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(
            {"code": "request_too_large", "detail": "The request body is too large."}, status=413
        )
    return JsonResponse({"code": "bad_request", "detail": "The request is malformed."}, status=400)


def server_error(request: HttpRequest) -> HttpResponse | JsonResponse:
    if request.path.startswith(API_PREFIX):
        return json_server_error(request)
    return defaults.server_error(request)


# --- Console: messages customers left (tickets), answered by email ----------------------------


def _agent_only(request: HttpRequest) -> None:
    if not is_agent(request.user):
        raise PermissionDenied("Only agents can answer tickets.")


@login_required
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    _agent_only(request)
    status = request.GET.get("status", Ticket.Status.OPEN)
    if status not in Ticket.Status.values:
        status = Ticket.Status.OPEN
    context = {
        "tickets": list(selectors.ticket_list(status=status)),
        "status": status,
        "statuses": Ticket.Status.choices,
        "open_count": selectors.ticket_open_count(),
    }
    return render(request, "helpdesk/ticket_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The ticket, the chat it was left from, and the answer form (POST: send the answer)."""
    _agent_only(request)
    ticket = selectors.ticket_get(ticket_id=ticket_id)
    if ticket is None:
        raise Http404("No such ticket.")
    form = TicketReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_reply(
                ticket_id=ticket.pk, author=request.user, body=form.cleaned_data["body"]
            )
        except TicketClosed as exc:
            # The form is gone from a closed ticket's page: say it above.
            messages.error(request, exc.detail)
        except DomainError as exc:
            form.add_error("body", exc.detail)
        else:
            messages.success(request, f"Your answer to {ticket.reference} is on its way.")
            return redirect("helpdesk:ticket-detail", ticket_id=ticket.pk)
    context = {
        "ticket": ticket,
        "replies": list(ticket.replies.all()),
        "transcript": selectors.ticket_transcript(ticket=ticket),
        "form": form,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "helpdesk/ticket_detail.html", context, status=status)


@login_required
@require_POST
def ticket_close(request: HttpRequest, ticket_id: int) -> HttpResponse:
    _agent_only(request)
    try:
        ticket = services.ticket_close(ticket_id=ticket_id, by=request.user)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404(exc.detail) from None
        messages.warning(request, exc.detail)
        return redirect("helpdesk:ticket-detail", ticket_id=ticket_id)
    messages.success(request, f"Ticket {ticket.reference} is closed.")
    return redirect("helpdesk:ticket-list")


# --- Knowledge base: public help pages (customers follow the links agents paste) -------------

HELP_PAGE_SIZE = 20


@require_GET
def help_index(request: HttpRequest) -> HttpResponse:
    """Every published article by title, or the best matches of `q` (at most 10)."""
    form = ArticleSearchForm(request.GET or None)
    query = ""
    page = None
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"]
    if query:
        articles = selectors.article_search(query=query)
    elif form.is_bound and not form.is_valid():
        articles = []
    else:
        page = Paginator(selectors.article_list_published(), HELP_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        articles = list(page.object_list)
    renderings = article_renderings(articles)
    context = {
        "form": form,
        "query": query,
        "page": page,
        "results": [
            {"article": article, "excerpt": renderings[article.pk]["excerpt"]}
            for article in articles
        ],
    }
    status = 400 if form.errors else 200
    return render(request, "helpdesk/article_list.html", context, status=status)


@require_GET
def help_article(request: HttpRequest, slug: str) -> HttpResponse:
    article = selectors.article_get_published(slug=slug)
    if article is None:
        # Unpublished and unknown look the same: a draft's slug tells a customer nothing.
        raise Http404("No such article.")
    context = {"article": article, "body_html": article_html(article)}
    return render(request, "helpdesk/article.html", context)
