"""The pages behind the offer email's links: confirm a subscription (double opt-in) and
unsubscribe. GET only shows a button (mail scanners follow links; a GET must change nothing);
POST acts. A forged, altered or expired link is a 400 page and changes nothing.

Thin: the links are read by transcripts.offers, the writes are its services.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from transcripts import offers


def _invalid_link(request: HttpRequest, *, purpose: str) -> HttpResponse:
    return render(
        request, "transcripts/subscription_invalid.html", {"purpose": purpose}, status=400
    )


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    claim = offers.confirm_claim(token=token)
    if claim is None:
        return _invalid_link(request, purpose="confirm")
    if request.method == "POST":
        offers.subscription_confirm(email=claim.email, source_chat_id=claim.chat_id)
        return render(request, "transcripts/subscription_done.html", {"confirmed": True})
    return render(
        request, "transcripts/subscription_confirm.html", {"email": claim.email, "confirm": True}
    )


# CSRF exempt for one reason: RFC 8058 one-click unsubscribe. A mail client POSTs
# "List-Unsubscribe=One-Click" to the List-Unsubscribe URL without any cookie or form token, so a
# CSRF check would refuse every such request. That is safe here because the POST can do one thing
# only: unsubscribe the address signed into the URL. A forged request needs the signed token
# already, and the worst it can do is stop offers to that address. Every other view keeps CSRF.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    claim = offers.unsubscribe_claim(token=token)
    if claim is None:
        return _invalid_link(request, purpose="unsubscribe")
    if request.method == "POST":
        offers.subscription_unsubscribe(email=claim.email)
        return render(request, "transcripts/subscription_done.html", {"confirmed": False})
    return render(
        request, "transcripts/subscription_confirm.html", {"email": claim.email, "confirm": False}
    )
