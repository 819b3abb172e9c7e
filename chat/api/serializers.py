from rest_framework import serializers

from chat.models import MESSAGE_MAX_LENGTH


class PublicChatStartInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, trim_whitespace=True)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254, default="")
    topic = serializers.SlugField(max_length=80)
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MESSAGE_MAX_LENGTH,
        default="",
        trim_whitespace=False,
    )
    consent_transcript = serializers.BooleanField(required=False, default=False)
    consent_marketing = serializers.BooleanField(required=False, default=False)


class PublicChatStartOutput(serializers.Serializer):
    id = serializers.IntegerField()
    token = serializers.CharField()
    ws_url = serializers.CharField()
    status = serializers.CharField()


class TopicOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(), required=False)
