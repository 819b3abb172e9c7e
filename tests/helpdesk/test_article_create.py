"""helpdesk.services.article_create: the path for code (seeds, imports) keeps the admin's rules."""

import pytest

from helpdesk import services
from helpdesk.errors import ArticleInvalid

pytestmark = pytest.mark.django_db


def test_a_valid_article_is_stored_with_tags_normalised() -> None:
    article = services.article_create(
        title="  Refunds ", slug="refunds", body="Five days.", tags="Money, money, REFUND"
    )
    assert (article.title, article.tags, article.is_published) == (
        "Refunds",
        "money, refund",
        True,
    )


def test_oversize_blank_and_duplicate_fields_are_refused_together() -> None:
    services.article_create(title="A", slug="a", body="ok")
    with pytest.raises(ArticleInvalid) as caught:
        services.article_create(title="", slug="a", body="x" * 50_001)
    assert set(caught.value.errors) == {"title", "slug", "body"}
    assert caught.value.code == "article_invalid"
    assert caught.value.status == 400


@pytest.mark.parametrize("slug", ["has space", "<script>", "ünï", "a/b"])
def test_a_slug_must_be_a_slug(slug: str) -> None:
    with pytest.raises(ArticleInvalid) as caught:
        services.article_create(title="T", slug=slug, body="ok")
    assert list(caught.value.errors) == ["slug"]
