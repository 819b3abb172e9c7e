"""The placeholder language: grammar, rejection of everything else, pure rendering."""

import contextlib
import time

import pytest

from cannedresponses.placeholders import (
    PLACEHOLDERS,
    Ask,
    AsksMissing,
    Field,
    PlaceholderError,
    Text,
    asks,
    asks_or_empty,
    parse,
    render,
)

CONTEXT: dict[str, str | None] = {
    "customer.name": "Ana Lima",
    "customer.first_name": "Ana",
    "customer.email": "ana@example.com",
    "agent.first_name": "Sam",
    "agent.name": "Sam",
    "topic.name": "Returns",
    "chat.id": "42",
    "today": "2026-03-15",
    "brand": "Acme",
}


def problems_of(body: str) -> list[str]:
    with pytest.raises(PlaceholderError) as caught:
        parse(body)
    return caught.value.problems


# --- Valid bodies ---------------------------------------------------------------------------


def test_every_whitelisted_name_renders_from_the_context() -> None:
    body = " ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    assert render(body, context=CONTEXT, values={}) == (
        "Ana Lima Ana ana@example.com Sam Sam Returns 42 2026-03-15 Acme"
    )


def test_parse_yields_text_fields_and_asks() -> None:
    assert parse("Hi {customer.first_name|there}! Order {ask:Order number}.") == [
        Text("Hi "),
        Field(name="customer.first_name", fallback="there"),
        Text("! Order "),
        Ask(label="Order number"),
        Text("."),
    ]


def test_blanks_around_names_fallbacks_and_labels_are_ignored() -> None:
    assert parse("{ customer.first_name | my friend }{ ask: Order number }") == [
        Field(name="customer.first_name", fallback="my friend"),
        Ask(label="Order number"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, "Hi there", id="missing"),
        pytest.param("", "Hi there", id="empty"),
        pytest.param("   ", "Hi there", id="blank"),
        pytest.param("Ana", "Hi Ana", id="present"),
    ],
)
def test_a_fallback_replaces_a_missing_or_blank_value(value: str | None, expected: str) -> None:
    context = {**CONTEXT, "customer.first_name": value}
    assert render("Hi {customer.first_name|there}", context=context, values={}) == expected


def test_without_fallback_a_missing_value_renders_nothing() -> None:
    context = {**CONTEXT, "customer.email": None}
    assert render("[{customer.email}]", context=context, values={}) == "[]"
    assert render("[{customer.email|}]", context=context, values={}) == "[]"


def test_double_braces_write_literal_braces() -> None:
    assert render("{{json}} {{ }} }}{{", context=CONTEXT, values={}) == "{json} { } }{"
    # Read left to right, as str.format does: "{{" then a placeholder.
    assert render("{{{customer.first_name}}}", context=CONTEXT, values={}) == "{Ana}"


def test_asks_are_listed_once_in_body_order() -> None:
    body = "{ask:Order number} {ask:Date} {ask:Order number}"
    assert asks(body) == ["Order number", "Date"]
    assert render(body, context=CONTEXT, values={"Order number": "A1", "Date": "today"}) == (
        "A1 today A1"
    )


def test_missing_ask_values_are_all_reported() -> None:
    with pytest.raises(AsksMissing) as caught:
        render("{ask:A} {ask:B} {ask:C}", context=CONTEXT, values={"B": "x", "C": "  "})
    assert caught.value.labels == ["A", "C"]


def test_values_and_context_are_inserted_literally_never_rendered_again() -> None:
    context = {**CONTEXT, "customer.name": "{customer.email} {{x}} {ask:Y}"}
    text = render(
        "{customer.name} / {ask:Order}",
        context=context,
        values={"Order": "{customer.email}{0}{customer.__class__}"},
    )
    assert text == "{customer.email} {{x}} {ask:Y} / {customer.email}{0}{customer.__class__}"


def test_nothing_is_escaped_the_output_is_text() -> None:
    context = {**CONTEXT, "customer.name": "<b>Ana</b> & co"}
    assert render("<i>{customer.name}</i>", context=context, values={}) == (
        "<i><b>Ana</b> & co</i>"
    )


def test_rendering_is_pure() -> None:
    context = dict(CONTEXT)
    values = {"X": "1"}
    first = render("{customer.name} {ask:X}", context=context, values=values)
    assert render("{customer.name} {ask:X}", context=context, values=values) == first
    assert context == CONTEXT and values == {"X": "1"}


# --- Rejected bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("{customer.__class__}", "no such attribute", id="dunder"),
        pytest.param("{customer.name.__class__.__mro__}", "no such attribute", id="chain"),
        pytest.param("{customer.first_name.upper}", "no such attribute", id="method"),
        pytest.param("{customer.password}", "no such attribute", id="other-attribute"),
        pytest.param("{0}", "unknown placeholder", id="positional"),
        pytest.param("{customer}", "unknown placeholder", id="object"),
        pytest.param("{settings.SECRET_KEY}", "unknown placeholder", id="settings"),
        pytest.param("{customer.name!r}", "conversions", id="conversion"),
        pytest.param("{customer.name:>10}", "format specifications", id="format-spec"),
        pytest.param("{x:>10}", "format specifications", id="format-spec-unknown"),
        pytest.param("{customer.name[0]}", "indexing", id="index"),
        pytest.param("{chat.delete()}", "indexing and calls", id="call"),
        pytest.param("{Customer.First_Name}", "lowercase", id="case"),
        pytest.param("{}", "empty placeholder", id="empty"),
        pytest.param("{   }", "empty placeholder", id="blank"),
        pytest.param("{ask:}", "needs a label", id="ask-no-label"),
        pytest.param("{ask:Order|x}", "ask label may hold", id="ask-with-bar"),
        pytest.param("{ask:<script>}", "ask label may hold", id="ask-markup"),
        pytest.param("{ask:" + "x" * 41 + "}", "at most 40", id="ask-long-label"),
        pytest.param("{customer.name|a|b}", "one fallback", id="two-fallbacks"),
        pytest.param("{customer.name|" + "x" * 101 + "}", "fallback can be", id="long-fallback"),
        pytest.param("{" + "x" * 151 + "}", "at most 150", id="long-placeholder"),
        pytest.param("{customer.{customer.name}}", "nested braces", id="nested"),
        pytest.param("Hi {customer.name", "not closed", id="unclosed"),
        pytest.param("Hi {customer.name\n}", "not closed", id="across-lines"),
        pytest.param("Hi }", "closes nothing", id="unmatched-close"),
        pytest.param("{{customer.first_name}}", "literal braces", id="jinja-habit"),
        pytest.param("{{ customer.first_name }}", "literal braces", id="jinja-habit-spaced"),
        pytest.param("{% if x %}", "unknown placeholder", id="template-tag"),
        pytest.param("{{ask:x}", "closes nothing", id="half-escaped"),
    ],
)
def test_anything_outside_the_language_is_rejected(body: str, expected: str) -> None:
    problems = problems_of(body)
    assert any(expected in problem for problem in problems), problems


def test_every_problem_is_listed_with_its_position_and_the_allowed_names() -> None:
    problems = problems_of("{customer.__class__} ok {0} }")
    assert problems[0].startswith("At character 1: {customer.__class__}")
    assert problems[1].startswith("At character 25: {0}")
    assert problems[2].startswith("At character 29: '}'")
    assert problems[-1].startswith("Allowed placeholders: {customer.name}")
    assert "{ask:Label}" in problems[-1]


def test_one_nesting_mistake_is_one_problem() -> None:
    assert len(problems_of("{a{b{c}}} then text")) == 1


def test_the_list_of_problems_is_bounded() -> None:
    problems = problems_of("} " * 500)
    assert len(problems) == 11
    assert problems[-1] == "… and 490 more problems."


def test_the_number_of_placeholders_and_asks_is_bounded() -> None:
    assert "at most 50 placeholders" in problems_of("{today}" * 51)[0]
    many_asks = " ".join(f"{{ask:Q{i}}}" for i in range(11))
    assert "at most 10 different values" in problems_of(many_asks)[0]


def test_rendering_an_invalid_body_raises_instead_of_guessing() -> None:
    with pytest.raises(PlaceholderError):
        render("{customer.__class__}", context=CONTEXT, values={})
    assert asks_or_empty("{ask:A} {0}") == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("{" * 4000, id="open-braces"),
        pytest.param("{a" * 2000, id="open-names"),
        pytest.param("}" * 4000, id="close-braces"),
        pytest.param("{" + "a|" * 1999 + "}", id="bars"),
        pytest.param("{{" * 2000, id="escapes"),
    ],
)
def test_hostile_bodies_are_handled_in_linear_time(body: str) -> None:
    started = time.perf_counter()
    with contextlib.suppress(PlaceholderError):
        parse(body)
    assert time.perf_counter() - started < 0.5
