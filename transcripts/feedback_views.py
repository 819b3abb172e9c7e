"""The feedback page behind the transcript email's signed link: GET shows the form, POST saves.

Thin: the link is read by transcripts.feedback, the rules are rating_submit's. A forged or
expired link, or a chat that cannot be rated, is a clear 400 page, never a 500.
"""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from helpdesk.errors import DomainError
from transcripts import feedback

SCORE_CHOICES = [
    (n, f"{n} - {label}")
    for n, label in enumerate(["Very poor", "Poor", "OK", "Good", "Excellent"], start=1)
]


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label="How was your chat?",
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Anything you would like to tell us? (optional)",
        required=False,
        max_length=feedback.COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.add_input(Submit("submit", "Send"))


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "transcripts/rating_invalid.html", status=400)


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    chat = feedback.chat_get_by_feedback_token(token=token)
    if chat is None:
        return _invalid_link(request)
    rating = feedback.rating_get(chat_id=chat.pk)
    status = 200
    if request.method == "POST":
        form = RatingForm(request.POST)
        if form.is_valid():
            try:
                rating = feedback.rating_submit(
                    chat_id=chat.pk,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                )
            except DomainError as exc:
                form.add_error(None, exc.detail)
                status = 400
            else:
                return render(
                    request,
                    "transcripts/rating_thanks.html",
                    {"chat": chat, "rating": rating, "edit_url": request.path},
                )
        else:
            status = 400
    elif rating is not None:
        form = RatingForm(initial={"score": rating.score, "comment": rating.comment})
    else:
        form = RatingForm()
    context = {
        "chat": chat,
        "form": form,
        "rating": rating,
        "locked": rating is not None and timezone.now() > feedback.rating_editable_until(rating),
        "closed": chat.status == chat.Status.CLOSED,
    }
    return render(request, "transcripts/rating.html", context, status=status)
