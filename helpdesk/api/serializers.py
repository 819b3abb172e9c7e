"""Input and output shapes of the helpdesk core's API (the console's knowledge base)."""

from rest_framework import serializers

from helpdesk.selectors import ARTICLE_QUERY_FORBIDDEN, ARTICLE_QUERY_MAX_LENGTH


class ApiErrorOutput(serializers.Serializer):
    """helpdesk.api.errors' body: `chat.api.serializers.ErrorOutput` has the same shape, but
    the core (floor 1) may not import chat (floor 2)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(), required=False)


class ArticleSearchQuery(serializers.Serializer):
    q = serializers.CharField(
        max_length=ARTICLE_QUERY_MAX_LENGTH,
        help_text="What the agent typed (1 to 200 characters, no control characters). On "
        "PostgreSQL in web search syntax: quotes for phrases, `or`, `-word` to exclude.",
    )
    topic = serializers.SlugField(
        max_length=80,
        required=False,
        help_text="The chat's topic (its slug): that topic's articles come first. An unknown "
        "topic boosts nothing.",
    )

    def validate_q(self, value: str) -> str:
        # NUL is refused by DRF already; the other control characters would be searched as
        # blanks, which is not what was typed: say so instead.
        if ARTICLE_QUERY_FORBIDDEN.search(value):
            raise serializers.ValidationError("A search cannot contain control characters.")
        return value


class ArticleTopicOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class ArticleSearchOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="Plain text: show it as text, never as HTML.")
    url = serializers.URLField(help_text="The public page, absolute, for the customer.")
    excerpt = serializers.CharField(
        help_text="Plain text of the article's first ~200 characters (markdown removed)."
    )
    topic = ArticleTopicOutput(allow_null=True)
