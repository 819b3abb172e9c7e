"""Supervisors write the knowledge base in the admin, with a rendered preview."""

from typing import Any

import pytest
from django.test import Client

from helpdesk.models import Article
from tests.factories import AgentFactory, ArticleFactory, SupervisorFactory, TopicFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/helpdesk/article/"
ADD = "/admin/helpdesk/article/add/"


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(SupervisorFactory())
    return client


def form(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Refunds",
        "slug": "refunds",
        "topic": "",
        "tags": "",
        "is_published": "on",
        "body": "Within **5 days**.",
    } | changes


def test_a_supervisor_lists_filters_and_searches(admin_client: Client) -> None:
    billing = TopicFactory(name="Billing")
    ArticleFactory(title="Invoices", topic=billing, tags="vat")
    ArticleFactory(title="Returns draft", is_published=False)
    listing = admin_client.get(LIST).content.decode()
    assert "Invoices" in listing and "Returns draft" in listing
    by_topic = admin_client.get(LIST, {"topic__id__exact": billing.pk}).content.decode()
    assert "Invoices" in by_topic and "Returns draft" not in by_topic
    drafts = admin_client.get(LIST, {"is_published__exact": "0"}).content.decode()
    assert "Returns draft" in drafts and "Invoices" not in drafts
    searched = admin_client.get(LIST, {"q": "vat"}).content.decode()
    assert "Invoices" in searched and "Returns draft" not in searched


def test_a_supervisor_adds_an_article_with_tags_normalised(admin_client: Client) -> None:
    page = admin_client.get(ADD).content.decode()
    assert "prepopulated_fields" in page or "data-prepopulated-fields" in page
    response = admin_client.post(ADD, form(tags=" VAT, vat , Invoice,,"))
    assert response.status_code == 302
    article = Article.objects.get(slug="refunds")
    assert article.tags == "vat, invoice"


def test_oversize_and_duplicate_articles_are_refused(admin_client: Client) -> None:
    ArticleFactory(slug="refunds")
    response = admin_client.post(ADD, form(body="x" * 50_001, title="t" * 201))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"title", "slug", "body"}
    assert Article.objects.count() == 1


def test_the_preview_is_the_sanitised_rendering(admin_client: Client) -> None:
    article = ArticleFactory(
        title="<script>alert('t')</script>",
        body="## Steps\n\n<script>alert('b')</script> [x](javascript:alert(1)) **ok**",
    )
    html = admin_client.get(f"/admin/helpdesk/article/{article.pk}/change/").content.decode()
    preview = html.split('class="kb-article-preview"')[1].split("</div>")[0]
    assert "<h3>Steps</h3>" in preview  # "##" is an <h3> under the page's own headings
    assert "<strong>ok</strong>" in preview
    assert "&lt;script&gt;alert('b')&lt;/script&gt;" in preview
    assert "javascript:" not in preview
    assert "<script>alert(" not in html
    assert f'href="/help/{article.slug}/"' in html


def test_a_drafts_public_link_says_customers_cannot_see_it(admin_client: Client) -> None:
    article = ArticleFactory(is_published=False)
    html = admin_client.get(f"/admin/helpdesk/article/{article.pk}/change/").content.decode()
    assert "not published: customers get a 404" in html


def test_agents_have_no_admin(client: Client) -> None:
    client.force_login(AgentFactory())
    assert client.get(LIST).status_code == 302  # to the admin's login: not staff
