"""Forms of the helpdesk's server-rendered pages (django-crispy-forms, Bootstrap 5)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from helpdesk.models import TICKET_BODY_MAX_LENGTH
from helpdesk.selectors import ARTICLE_QUERY_FORBIDDEN, ARTICLE_QUERY_MAX_LENGTH


class TicketReplyForm(forms.Form):
    body = forms.CharField(
        label="Your answer",
        max_length=TICKET_BODY_MAX_LENGTH,
        # The service applies the message rules (blank, NUL, length) and says which failed.
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": TICKET_BODY_MAX_LENGTH}),
        help_text="Sent by email to the customer, with the ticket's reference.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.helper = FormHelper()
        self.helper.form_id = "ticket-reply-form"
        self.helper.form_method = "post"
        self.helper.add_input(Submit("reply", "Send answer by email"))


class ArticleSearchForm(forms.Form):
    """The search box of the public help index (/help/?q=...)."""

    q = forms.CharField(
        label="Search the help articles",
        required=False,
        max_length=ARTICLE_QUERY_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "search", "maxlength": ARTICLE_QUERY_MAX_LENGTH}),
    )

    def clean_q(self) -> str:
        # The same rule as the console's API: say so rather than search for something else.
        query: str = self.cleaned_data.get("q") or ""
        if ARTICLE_QUERY_FORBIDDEN.search(query):
            raise forms.ValidationError("A search cannot contain control characters.")
        return query
