"""Article bodies: markdown rendered to an allow-list of HTML, whatever the body carries."""

from html.parser import HTMLParser

import pytest

from helpdesk.articles import (
    ALLOWED_TAGS,
    article_excerpt,
    article_html,
    article_tags_normalise,
    excerpt_of,
    render_markdown,
    sanitise_html,
)
from tests.factories import ArticleFactory

SAFE_SCHEMES = ("http://", "https://", "mailto:", "/")


class _Elements(HTMLParser):
    """What a browser would build from the HTML: elements and their attributes (escaped text
    such as "&lt;script&gt;" is text, not an element)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def elements_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def assert_inert(html: str) -> None:
    """Only allowed tags; only links have attributes (href, title, rel); hrefs are http(s),
    mailto or relative, after the browser decodes entities."""
    for tag, attrs in elements_of(html):
        assert tag in ALLOWED_TAGS, html
        if tag != "a":
            assert attrs == {}, html
            continue
        assert set(attrs) <= {"href", "title", "rel"}, html
        assert attrs["rel"] == "noopener nofollow", html
        href = (attrs.get("href") or "").strip().lower()
        assert not href or href.startswith(SAFE_SCHEMES), html


def test_markdown_becomes_the_small_safe_tag_set() -> None:
    html = render_markdown(
        "# Returns\n\nSend it **back** in *30 days*.\n\n"
        "## Steps\n\n- pack\n- ship\n\n1. one\n2. two\n\n"
        "> a quote\n\n`code` and\n\n```\npre block\n```\n\n---\n\n#### small\n\n###### tiny"
    )
    assert "<h2>Returns</h2>" in html  # the page's <h1> is the title
    assert "<h3>Steps</h3>" in html
    assert "<strong>back</strong>" in html and "<em>30 days</em>" in html
    assert "<ul>" in html and "<ol>" in html and "<li>pack</li>" in html
    assert "<blockquote>" in html and "<code>code</code>" in html
    assert "<pre><code>pre block" in html
    assert "<h4>small</h4>" in html and "<h4>tiny</h4>" in html  # h5, h6 stop at h4
    assert_inert(html)


def test_links_keep_safe_schemes_and_get_rel() -> None:
    html = render_markdown(
        "[site](https://example.com/a?b=1&c=2) [plain](http://example.com) "
        "[mail](mailto:help@example.com) [other article](/help/returns/)"
    )
    assert '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener nofollow">site</a>' in html
    assert 'href="http://example.com"' in html
    assert 'href="mailto:help@example.com"' in html
    assert 'href="/help/returns/"' in html
    assert html.count('rel="noopener nofollow"') == 4


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        '<img src="x" onerror="alert(1)">',
        "<svg onload=alert(1)>",
        "<iframe src=https://evil.example></iframe>",
        '<a href="javascript:alert(1)">click</a>',
        '<p onclick="alert(1)">hi</p>',
        "<style>body{display:none}</style>",
        "<div markdown=1>**bold**</div>",
        "<!-- <script>alert(1)</script> -->",
    ],
)
def test_raw_html_is_shown_as_text_never_as_elements(body: str) -> None:
    html = render_markdown(body)
    assert_inert(html)
    assert "&lt;" in html  # what was typed shows as typed


@pytest.mark.parametrize(
    "body",
    [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](&#106;avascript:alert(1))",
        "[click](java&#x09;script:alert(1))",
        "[click]( javascript:alert(1))",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[ref][1]\n\n[1]: javascript:alert(1)",
        "<javascript:alert(1)>",
        "**[nested](javascript:alert(1))**",
        '[x](http://a.example" onclick="alert(1))',
        '[x](https://a.example "title" onmouseover="alert(1)")',
    ],
)
def test_script_urls_and_attribute_tricks_are_dropped(body: str) -> None:
    assert_inert(render_markdown(body))


@pytest.mark.parametrize(
    "body",
    [
        "![tracker](https://evil.example/pixel.png)",
        '![x](x" onerror="alert(1))',
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "[![badge](https://evil.example/b.png)](https://example.com)",
    ],
)
def test_images_become_their_description(body: str) -> None:
    html = render_markdown(body)
    assert_inert(html)
    assert "evil.example" not in html


def test_an_image_keeps_its_alt_text() -> None:
    assert render_markdown("![The returns label](https://example.com/l.png)") == (
        "<p>The returns label</p>"
    )


def test_code_blocks_escape_what_they_hold() -> None:
    html = render_markdown("```html\n<script>alert(1)</script>\n```")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert_inert(html)


def test_the_sanitiser_holds_on_its_own_whatever_produced_the_html() -> None:
    # The second wall: HTML that did not come from our markdown settings.
    raw = (
        '<h1>t</h1><p style="color:red" class="x" id="y">ok<script>bad()</script></p>'
        '<a href="javascript:alert(1)" onclick="x()">a</a><img src=x onerror=y>'
        "<table><tr><td>cell</td></tr></table><form><input></form>"
    )
    html = sanitise_html(raw)
    assert_inert(html)
    assert "bad()" not in html  # a script's text goes with it
    assert "ok" in html and "cell" in html


def test_nul_and_odd_characters_do_not_break_rendering() -> None:
    html = render_markdown("a\x00b \u202e evil \ud7ff")
    assert "\x00" not in html
    assert_inert(html)


def test_the_excerpt_is_plain_text_cut_at_a_word() -> None:
    body = "# Returns\n\nYou can **return** anything <b>within</b> 30 days. " + "More words. " * 40
    excerpt = excerpt_of(body)
    assert excerpt.startswith("Returns You can return anything <b>within</b> 30 days.")
    assert len(excerpt) <= 200
    assert excerpt.endswith("…")
    assert not excerpt[:-1].endswith(" ")
    assert "**" not in excerpt and "#" not in excerpt


def test_a_short_body_is_its_whole_excerpt() -> None:
    assert excerpt_of("Just *this*.") == "Just this."


def test_tags_are_normalised() -> None:
    assert article_tags_normalise(" Refund, refunds ,  REFUND,,money , ") == (
        "refund, refunds, money"
    )


@pytest.mark.django_db
def test_renderings_are_cached_per_article_version(monkeypatch: pytest.MonkeyPatch) -> None:
    # No cache.clear(): with Redis that would empty a shared database. A new article has a
    # new key anyway.
    article = ArticleFactory(body="First **version**.")
    assert str(article_html(article)) == "<p>First <strong>version</strong>.</p>"

    # Cached: the same version is not rendered again.
    def no_rendering(body: str) -> str:
        raise AssertionError("rendered again")

    monkeypatch.setattr("helpdesk.articles.render_markdown", no_rendering)
    assert article_excerpt(article) == "First version."
    monkeypatch.undo()

    # A save moves updated_at: the next rendering is of the new body, never the cached one.
    article.body = "Second version."
    article.save()
    assert str(article_html(article)) == "<p>Second version.</p>"


@pytest.mark.django_db
def test_a_script_title_and_body_render_inert_for_the_admin_preview() -> None:
    article = ArticleFactory.build(title="<script>x()</script>", body="<img src=x onerror=y()>")
    html = str(article_html(article))  # unsaved: rendered without the cache
    assert_inert(html)
