"""The wire format: parsing client frames (pure) and the shape of server frames."""

import pytest

from chat.protocol import (
    ClientFrame,
    MessageFrame,
    ProtocolError,
    ResumeFrame,
    error_frame,
    parse_client_frame,
    resumed_frame,
    typing_frame,
)


def refused(data, role="customer") -> str:
    with pytest.raises(ProtocolError) as excinfo:
        parse_client_frame(data, role=role)
    return excinfo.value.code


def msg(**fields):
    return {"type": "message", "body": "hi", "client_msg_id": "c-1", **fields}


# --- Accepted frames ---------------------------------------------------------------------------


def test_a_customer_message_needs_no_chat() -> None:
    frame = parse_client_frame(msg(), role="customer")
    assert frame == MessageFrame(type="message", chat=None, body="hi", client_msg_id="c-1")


def test_a_customer_may_name_their_chat() -> None:
    assert parse_client_frame(msg(chat=7), role="customer").chat == 7


def test_an_agent_must_name_the_chat() -> None:
    assert parse_client_frame(msg(chat=7), role="agent").chat == 7
    assert refused(msg(), role="agent") == "invalid_frame"
    assert refused({"type": "take"}, role="agent") == "invalid_frame"


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_resume_typing_close_and_ping(role: str) -> None:
    assert parse_client_frame({"type": "resume", "chat": 3, "after_seq": 0}, role=role) == (
        ResumeFrame(type="resume", chat=3, after_seq=0)
    )
    assert parse_client_frame({"type": "typing", "chat": 3}, role=role) == ClientFrame(
        type="typing", chat=3
    )
    assert parse_client_frame({"type": "close", "chat": 3}, role=role).type == "close"
    assert parse_client_frame({"type": "ping", "chat": "ignored"}, role=role) == ClientFrame(
        type="ping"
    )


def test_take_is_for_agents_only() -> None:
    assert parse_client_frame({"type": "take", "chat": 3}, role="agent").type == "take"
    assert refused({"type": "take", "chat": 3}, role="customer") == "forbidden"


@pytest.mark.parametrize(
    "client_msg_id", ["a", "A" * 64, "550e8400-e29b-41d4-a716-446655440000", "x_y.z:1-2"]
)
def test_client_msg_id_alphabet_and_length(client_msg_id: str) -> None:
    assert parse_client_frame(msg(client_msg_id=client_msg_id), role="customer").client_msg_id


def test_unknown_extra_fields_are_ignored() -> None:
    assert parse_client_frame(msg(extra={"x": 1}), role="customer").body == "hi"


# --- Refused frames ----------------------------------------------------------------------------


@pytest.mark.parametrize("data", [[], "message", 42, None, True, 1.5, [{"type": "ping"}]])
def test_a_frame_must_be_an_object(data) -> None:
    assert refused(data) == "invalid_frame"


@pytest.mark.parametrize("frame_type", [None, 1, True, ["message"], {"t": 1}])
def test_type_must_be_a_string(frame_type) -> None:
    assert refused({"type": frame_type}) == "invalid_frame"
    assert refused({}) == "invalid_frame"


@pytest.mark.parametrize("frame_type", ["", "shout", "MESSAGE", "message ", "chats", "ack"])
def test_unknown_types(frame_type: str) -> None:
    assert refused({"type": frame_type}) == "unknown_type"
    assert refused({"type": frame_type, "chat": 1}, role="agent") == "unknown_type"


@pytest.mark.parametrize(
    "chat", ["1", True, False, 1.0, 1.5, 0, -1, None, [1], {"id": 1}], ids=repr
)
@pytest.mark.parametrize("role", ["customer", "agent"])
def test_chat_must_be_a_positive_integer(chat, role: str) -> None:
    assert refused(msg(chat=chat), role=role) == "invalid_frame"


@pytest.mark.parametrize("after_seq", ["0", True, False, 0.0, 2.5, -1, None, [0]], ids=repr)
def test_after_seq_must_be_a_non_negative_integer(after_seq) -> None:
    assert refused({"type": "resume", "after_seq": after_seq}) == "invalid_frame"
    assert refused({"type": "resume"}) == "invalid_frame"


@pytest.mark.parametrize("body", [None, 5, True, ["hi"], {"text": "hi"}], ids=repr)
def test_body_must_be_a_string(body) -> None:
    assert refused(msg(body=body)) == "invalid_frame"
    frame = msg()
    del frame["body"]
    assert refused(frame) == "invalid_frame"


@pytest.mark.parametrize(
    "client_msg_id",
    [
        "",
        "A" * 65,
        "has space",
        "tab\t",
        "trailing-newline\n",
        "\nleading-newline",
        "é",
        "emoji-\U0001f600",
        "slash/",
        "quote'",
        "nul\x00",
        5,
        None,
        True,
        ["c-1"],
    ],
    ids=repr,
)
def test_client_msg_id_must_be_1_to_64_safe_characters(client_msg_id) -> None:
    assert refused(msg(client_msg_id=client_msg_id)) == "invalid_frame"
    frame = msg()
    del frame["client_msg_id"]
    assert refused(frame) == "invalid_frame"


def test_an_empty_body_parses_the_service_judges_it() -> None:
    # Message rules (empty, too long, NUL) belong to the service; the parser checks types only.
    assert parse_client_frame(msg(body=""), role="customer").body == ""


# --- Server frames -----------------------------------------------------------------------------


def test_error_frames_carry_chat_and_client_msg_id_only_when_known() -> None:
    assert error_frame(code="x", detail="d") == {"type": "error", "code": "x", "detail": "d"}
    assert error_frame(code="x", detail="d", chat=3, client_msg_id="c-1") == {
        "type": "error",
        "code": "x",
        "detail": "d",
        "chat": 3,
        "client_msg_id": "c-1",
    }


def test_typing_and_resumed_frames() -> None:
    assert typing_frame(chat_id=3, kind="agent", name="Bruno") == {
        "type": "typing",
        "chat": 3,
        "kind": "agent",
        "name": "Bruno",
    }
    assert resumed_frame(chat_id=3, last_seq=None, more=False) == {
        "type": "resumed",
        "chat": 3,
        "last_seq": None,
        "more": False,
    }
