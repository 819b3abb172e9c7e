from django.urls import path

from chat.api.views import PublicChatStartApi, PublicTicketCreateApi, PublicTopicListApi

urlpatterns = [
    path("public/chats/", PublicChatStartApi.as_view(), name="public-chat-start"),
    path("public/topics/", PublicTopicListApi.as_view(), name="public-topic-list"),
    path("public/tickets/", PublicTicketCreateApi.as_view(), name="public-ticket-create"),
]
