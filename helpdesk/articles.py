"""Knowledge base articles: markdown in, sanitised HTML and a plain-text excerpt out.

Supervisors write articles in markdown; customers read them on /help/<slug>/ and agents paste
links and excerpts into chats. The body is untrusted text all the same (an account can be
stolen, a paste can carry a payload), so rendering is two independent walls:

1. Markdown with raw HTML switched off: `<script>` typed in a body comes out as the text
   "<script>", never as an element. Headings are shifted below the page's own <h1>; images
   become their alt text (no pixels fetched from other sites when a customer opens a page).
2. nh3 (the Rust `ammonia` sanitiser) on the result, with a small allow-list of tags and
   attributes, link schemes http, https and mailto only, and rel="noopener nofollow" forced
   on every link. Whatever slipped through the first wall stops here.

Rendered HTML and excerpts are cached per (pk, updated_at): any save of the article changes
`updated_at` and so the key, and a change of these rules bumps RENDER_VERSION.
"""

import html
import re
from collections.abc import Iterable
from typing import Any
from xml.etree.ElementTree import Element

import markdown
import nh3
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from helpdesk.models import Article

# Bump when the rules below change: cached renderings of the old rules are then ignored.
RENDER_VERSION = 1
CACHE_SECONDS = 24 * 3600
EXCERPT_LENGTH = 200
# The model's limit (helpdesk 0006), named once for the service and the tests.
ARTICLE_BODY_MAX_LENGTH: int = Article._meta.get_field("body").max_length  # type: ignore[assignment]

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "a",
}
# Only links carry attributes: an href (scheme-checked by nh3) and a title. No class, style,
# id or event handler anywhere.
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
# Relative links (to another article, "/help/returns/") have no scheme and stay allowed: they
# resolve against our own http(s) origin.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener nofollow"
# The page's title is its <h1>: "# Heading" in a body becomes <h2>, and deeper headings stop
# at <h4>, the smallest we allow.
TOP_HEADING_LEVEL = 2
BOTTOM_HEADING_LEVEL = 4

_WHITESPACE = re.compile(r"\s+")
_HEADING = re.compile(r"^h([1-6])$")


def article_tags_normalise(raw: str) -> str:
    """ "Refund, refunds ,  REFUND,,money" -> "refund, refunds, money": lower case, no blanks,
    no repeats, so searching and filtering by tag need no guessing about spelling."""
    tags = (tag.strip().casefold() for tag in raw.split(","))
    return ", ".join(dict.fromkeys(tag for tag in tags if tag))


class _SafeTree(Treeprocessor):
    """Shifts headings into h2..h4 and turns images into their alt text."""

    def run(self, root: Element) -> None:
        for element in root.iter():
            match = _HEADING.match(element.tag)
            if match:
                level = int(match.group(1)) + TOP_HEADING_LEVEL - 1
                element.tag = f"h{min(level, BOTTOM_HEADING_LEVEL)}"
            elif element.tag == "img":
                # A <span> is not allowed, so the sanitiser unwraps it and keeps the text.
                alt = element.get("alt", "")
                element.attrib.clear()
                element.tag = "span"
                element.text = alt


class _SafeMarkdown(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Python-Markdown passes raw HTML blocks and inline tags through verbatim; without
        # these two processors they are escaped and shown as the text that was typed.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        # After "inline" (priority 20), which builds the links and images.
        md.treeprocessors.register(_SafeTree(md), "helpdesk_safe_tree", 5)


def _markdown() -> markdown.Markdown:
    # A new instance per call: Markdown objects keep state between conversions and are not
    # thread safe, and building one costs microseconds.
    return markdown.Markdown(
        extensions=["fenced_code", "sane_lists", _SafeMarkdown()],
        output_format="html",
    )


def sanitise_html(raw: str) -> str:
    """The allow-list: what may reach a page from an article, whatever produced the HTML."""
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        # script/style are never allowed; this drops their text too instead of showing it.
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(body: str) -> str:
    """Markdown to sanitised HTML (a plain str; see `article_html` for templates)."""
    # NUL has no place in text and some parsers treat it specially: drop it first.
    return sanitise_html(_markdown().convert(body.replace("\x00", "")))


def html_to_text(fragment: str) -> str:
    """The text of sanitised HTML, whitespace collapsed (for excerpts and search results)."""
    text = nh3.clean(fragment, tags=set(), clean_content_tags={"script", "style"})
    return _WHITESPACE.sub(" ", html.unescape(text)).strip()


def truncate_text(text: str, length: int = EXCERPT_LENGTH) -> str:
    """At most `length` characters, cut at a word boundary when there is one, with "…"."""
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    space = cut.rfind(" ")
    # Cutting at the last space keeps words whole, unless that would lose most of the text.
    if space > length // 2:
        cut = cut[:space]
    return cut.rstrip(" .,;:") + "…"


def excerpt_of(body: str, length: int = EXCERPT_LENGTH) -> str:
    """Plain text of the first ~`length` characters of a markdown body."""
    return truncate_text(html_to_text(render_markdown(body)), length)


# --- Cached per article -----------------------------------------------------------------------


def _cache_key(article: Article) -> str:
    stamp = article.updated_at.timestamp() if article.updated_at else 0
    return f"kb:article:v{RENDER_VERSION}:{article.pk}:{stamp}"


def _render(article: Article) -> dict[str, str]:
    rendered = render_markdown(article.body)
    return {"html": rendered, "excerpt": truncate_text(html_to_text(rendered))}


def article_renderings(articles: Iterable[Article]) -> dict[int, dict[str, str]]:
    """{pk: {"html", "excerpt"}} for saved articles: one cache round trip for all of them,
    and only the missing ones rendered (and stored)."""
    articles = [article for article in articles if article.pk is not None]
    keys = {_cache_key(article): article for article in articles}
    found: dict[str, Any] = cache.get_many(list(keys))
    missing: dict[str, dict[str, str]] = {}
    for key, article in keys.items():
        if key not in found:
            missing[key] = _render(article)
    if missing:
        cache.set_many(missing, CACHE_SECONDS)
    return {article.pk: {**found, **missing}[key] for key, article in keys.items()}


def _rendering(article: Article) -> dict[str, str]:
    # An unsaved article (the admin's preview of a new one) has no cache key: render it.
    if article.pk is None:
        return _render(article)
    return article_renderings([article])[article.pk]


def article_html(article: Article) -> SafeString:
    """The article's body as sanitised HTML, safe to put in a template as it is."""
    # The allow-list above is what makes this safe: nothing else in this module emits HTML.
    return mark_safe(_rendering(article)["html"])  # noqa: S308


def article_excerpt(article: Article) -> str:
    """The first ~200 characters of the article's text, plain (never HTML)."""
    return _rendering(article)["excerpt"]
