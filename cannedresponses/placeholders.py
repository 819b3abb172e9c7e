"""The placeholder language of canned responses: tiny, whitelisted, and pure.

Bodies are written by supervisors and agents, so they are data, never code: this is neither a
Django/Jinja template nor `str.format` (both reach attributes, indexes or filters of real
objects). A body is text with placeholders in single braces:

    {customer.first_name}          a value from the chat, out of a fixed whitelist
    {customer.first_name|there}    the same, with a fallback when the value is missing
    {ask:Order number}             a value the agent types before sending
    {{  }}                         literal braces

Anything else in braces is rejected when the body is saved, with every problem listed.
Rendering works on plain strings only (a dict of whitelisted names to strings), inserts
values literally (a value is never parsed again) and escapes nothing: the result is text.
The full grammar is in docs/cannedresponses.md.
"""

from collections.abc import Mapping
from dataclasses import dataclass

# The whitelist: name -> what it is (shown in error messages, the API schema and the docs).
PLACEHOLDERS: dict[str, str] = {
    "customer.name": "The customer's name as they gave it.",
    "customer.first_name": "The first word of the customer's name.",
    "customer.email": "The customer's email address (may be empty).",
    "agent.first_name": "Your first name (may be empty).",
    "agent.name": "The name the customer sees for you (first name, else user name).",
    "topic.name": "The name of the chat's topic.",
    "chat.id": "The chat's number.",
    "today": "Today's date (YYYY-MM-DD) in the topic's time zone.",
    "brand": "The brand name of this helpdesk.",
}
ASK_PREFIX = "ask:"

ASK_LABEL_MAX_LENGTH = 40
FALLBACK_MAX_LENGTH = 100
PLACEHOLDER_MAX_LENGTH = 150  # what may stand between two braces
MAX_PLACEHOLDERS = 50
MAX_ASKS = 10
MAX_PROBLEMS = 10
# Punctuation an ask label may hold besides letters, digits and spaces ("Order no. (#)").
_LABEL_PUNCTUATION = frozenset(" -_.#'/()&,?")
_OBJECTS = frozenset(name.split(".")[0] for name in PLACEHOLDERS if "." in name)


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Field:
    name: str
    fallback: str | None  # None: no fallback written (an empty one renders nothing)


@dataclass(frozen=True)
class Ask:
    label: str


Token = Text | Field | Ask


class PlaceholderError(ValueError):
    """A body that is not valid in the language; `problems` lists each one for the author."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


class AsksMissing(ValueError):
    """Rendering needs values the agent has not given (labels in body order)."""

    def __init__(self, labels: list[str]) -> None:
        self.labels = labels
        super().__init__("Missing values for: " + ", ".join(labels))


def allowed_list() -> str:
    return ", ".join(f"{{{name}}}" for name in PLACEHOLDERS) + ", {ask:Label}"


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _diagnose_name(name: str) -> str:
    """Why `name` is not a placeholder, in words an author can act on."""
    shown = "{" + clip(name) + "}"
    if name.lower() in PLACEHOLDERS:
        return f"{shown}: placeholder names are lowercase, write {{{name.lower()}}}."
    if "!" in name:
        return f"{shown}: conversions such as !r are not supported."
    if ":" in name:
        return (
            f"{shown}: format specifications are not supported; the only ':' form is {{ask:Label}}."
        )
    if "[" in name or "]" in name or "(" in name or ")" in name:
        return f"{shown}: indexing and calls are not supported."
    if "__" in name or ("." in name and name.split(".")[0] in _OBJECTS):
        return f"{shown}: no such attribute; only the listed names may be used."
    return f"{shown}: unknown placeholder."


def _label_problem(label: str) -> str | None:
    if not label:
        return "an ask needs a label, e.g. {ask:Order number}."
    if len(label) > ASK_LABEL_MAX_LENGTH:
        return f"an ask label can be at most {ASK_LABEL_MAX_LENGTH} characters."
    if any(not (ch.isalnum() or ch in _LABEL_PUNCTUATION) for ch in label):
        return "an ask label may hold letters, digits, spaces and - _ . # ' / ( ) & , ? only."
    return None


def _placeholder(inner: str, position: int, problems: list[str]) -> Field | Ask | None:
    """One `{...}` (without its braces), or None after recording why it is not valid."""
    where = f"At character {position}"
    if len(inner) > PLACEHOLDER_MAX_LENGTH:
        problems.append(
            f"{where}: a placeholder can be at most {PLACEHOLDER_MAX_LENGTH} characters."
        )
        return None
    text = inner.strip()
    if not text:
        problems.append(f"{where}: empty placeholder {{}}; write {{{{}}}} for literal braces.")
        return None
    if text.startswith(ASK_PREFIX):
        label = text[len(ASK_PREFIX) :].strip()
        problem = _label_problem(label)
        if problem:
            problems.append(f"{where}: {problem}")
            return None
        return Ask(label=label)
    name, bar, fallback = text.partition("|")
    name = name.strip()
    if name not in PLACEHOLDERS:
        problems.append(f"{where}: {_diagnose_name(name)}")
        return None
    if not bar:
        return Field(name=name, fallback=None)
    fallback = fallback.strip()
    if len(fallback) > FALLBACK_MAX_LENGTH:
        problems.append(f"{where}: a fallback can be at most {FALLBACK_MAX_LENGTH} characters.")
        return None
    if "|" in fallback:
        problems.append(f"{where}: a placeholder takes one fallback (one '|'), no filters.")
        return None
    return Field(name=name, fallback=fallback)


def _skip_nested(body: str, start: int) -> int:
    """The index after the brace group opened at `start` (balanced, on one line), so one
    nesting mistake is reported once rather than as a cascade."""
    depth = 0
    for index in range(start, len(body)):
        char = body[index]
        if char == "\n":
            return index
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(body)


def _tokens(body: str, problems: list[str]) -> list[Token]:
    tokens: list[Token] = []
    text: list[str] = []

    def flush() -> None:
        if text:
            tokens.append(Text("".join(text)))
            text.clear()

    i, n = 0, len(body)
    while i < n:
        char = body[i]
        if char == "{":
            if body.startswith("{{", i):
                text.append("{")
                i += 2
                continue
            # A placeholder ends at the next '}' on the same line; '{' or a line end first is
            # an error. One linear scan: no regular expression, no backtracking.
            j = i + 1
            while j < n and body[j] not in "{}\n":
                j += 1
            if j < n and body[j] == "}":
                token = _placeholder(body[i + 1 : j], i + 1, problems)
                if token is not None:
                    flush()
                    tokens.append(token)
                i = j + 1
            elif j < n and body[j] == "{":
                problems.append(
                    f"At character {i + 1}: nested braces are not allowed; "
                    "write {{ and }} for literal braces."
                )
                i = _skip_nested(body, i)
            else:
                problems.append(
                    f"At character {i + 1}: '{{' is not closed on its line; "
                    "write {{ for a literal brace."
                )
                i += 1
        elif char == "}":
            if body.startswith("}}", i):
                text.append("}")
                i += 2
                continue
            problems.append(
                f"At character {i + 1}: '}}' closes nothing; write }}}} for a literal brace."
            )
            i += 1
        else:
            text.append(char)
            i += 1
    flush()
    return tokens


def _literal_placeholder_problems(tokens: list[Token]) -> list[str]:
    """`{{customer.name}}` writes the literal text "{customer.name}": almost surely a
    Jinja habit, and the customer would read the braces. Refuse it with the fix."""
    texts = [token.value for token in tokens if isinstance(token, Text)]
    return [
        f"{{{shown}}} writes literal braces; write {{{name}}} for the value."
        for text in texts
        for name in PLACEHOLDERS
        for shown in (f"{{{name}}}", f"{{ {name} }}")
        if shown in text
    ]


def parse(body: str) -> list[Token]:
    """The tokens of a valid body; PlaceholderError listing every problem otherwise."""
    problems: list[str] = []
    tokens = _tokens(body, problems)
    problems += _literal_placeholder_problems(tokens)
    placeholders = [t for t in tokens if not isinstance(t, Text)]
    if len(placeholders) > MAX_PLACEHOLDERS:
        problems.append(f"A response can hold at most {MAX_PLACEHOLDERS} placeholders.")
    labels = {t.label for t in placeholders if isinstance(t, Ask)}
    if len(labels) > MAX_ASKS:
        problems.append(f"A response can ask for at most {MAX_ASKS} different values.")
    if problems:
        if any("unknown placeholder" in p or "no such attribute" in p for p in problems):
            problems.append(f"Allowed placeholders: {allowed_list()}.")
        if len(problems) > MAX_PROBLEMS:
            hidden = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], f"… and {hidden} more problems."]
        raise PlaceholderError(problems)
    return tokens


def validate(body: str) -> None:
    parse(body)


def asks(body: str) -> list[str]:
    """The labels the agent is asked for, once each, in the order they appear."""
    return _asks(parse(body))


def _asks(tokens: list[Token]) -> list[str]:
    labels: list[str] = []
    for token in tokens:
        if isinstance(token, Ask) and token.label not in labels:
            labels.append(token.label)
    return labels


def asks_or_empty(body: str) -> list[str]:
    """`asks` for output: a body that no longer parses (saved around the service, or a name
    removed from the whitelist) lists none rather than failing the whole list."""
    try:
        return asks(body)
    except PlaceholderError:
        return []


def render(body: str, *, context: Mapping[str, str | None], values: Mapping[str, str]) -> str:
    """The text of `body` with the context and the agent's values filled in.

    Pure: a function of its arguments. A missing or blank context value takes the fallback
    (or nothing); every ask needs a non-blank value (AsksMissing lists those that lack one).
    Values and context are inserted as they are and never parsed again, so a value holding
    "{customer.email}" stays those characters.
    """
    tokens = parse(body)
    missing = [label for label in _asks(tokens) if not (values.get(label) or "").strip()]
    if missing:
        raise AsksMissing(missing)
    parts: list[str] = []
    for token in tokens:
        if isinstance(token, Text):
            parts.append(token.value)
        elif isinstance(token, Ask):
            parts.append(values[token.label])
        else:
            value = context.get(token.name)
            if value is None or not value.strip():
                value = token.fallback or ""
            parts.append(value)
    return "".join(parts)
