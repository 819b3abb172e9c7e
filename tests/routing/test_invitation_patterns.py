"""The URL pattern language of invitation rules: paths with * as the only wildcard, ! to
exclude; anything else (regular expressions above all) refused with a message that says what
to write instead. Matching is linear in the path, so no pattern can make a check slow."""

import pytest

from routing.invitations import (
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS,
    PatternError,
    glob_match,
    parse_pattern,
    parse_patterns,
)


def matches(patterns: str, path: str) -> bool:
    return parse_patterns(patterns).matches(path)


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        ("/shop/boots", "/shop/boots", True),
        ("/shop/boots", "/shop/boots/", False),
        ("/shop/boots", "/shop/boots2", False),
        ("/shop/*", "/shop/", True),
        ("/shop/*", "/shop/boots/42", True),
        ("/shop/*", "/shop", False),
        ("/shop/*", "/shopping/", False),
        ("/*", "/", True),
        ("/*", "/anything/at/all", True),
        ("/help/*/returns", "/help/en/returns", True),
        ("/help/*/returns", "/help/en/gb/returns", True),
        ("/help/*/returns", "/help/returns", False),
        ("*/checkout", "/a/b/checkout", False),  # refused below: must start with "/"
        ("/*boots*", "/shop/winter-boots/42", True),
        ("/a*a*a*b", "/aaaab", True),
        ("/a*a*a*b", "/aaab", True),
        ("/a*a*a*b", "/aab", False),
        ("/Shop/*", "/shop/boots", False),  # case counts, as in URLs
        ("/größen/*", "/gr%C3%B6%C3%9Fen/38", True),  # the browser's encoded path
        ("/gr%C3%B6%C3%9Fen/*", "/größen/38", True),
        ("/shop/**", "/shop/x", True),
    ],
)
def test_a_pattern_matches_paths(pattern: str, path: str, expected: bool) -> None:
    if not pattern.startswith("/"):
        with pytest.raises(PatternError):
            parse_pattern(pattern)
        return
    assert matches(pattern, path) is expected


def test_the_suffix_and_prefix_may_not_overlap() -> None:
    # "/ab*ba" needs at least "/ab" + "ba": "/aba" is too short even though both fit in it.
    assert not matches("/ab*ba", "/aba")
    assert matches("/ab*ba", "/abba")


def test_exclusions_win_over_inclusions() -> None:
    patterns = "/shop/*\n!/shop/checkout*"
    assert matches(patterns, "/shop/boots")
    assert not matches(patterns, "/shop/checkout")
    assert not matches(patterns, "/shop/checkout/pay")


def test_only_exclusions_means_every_other_page() -> None:
    patterns = "!/checkout/*\n!/account/*"
    assert matches(patterns, "/")
    assert matches(patterns, "/shop/boots")
    assert not matches(patterns, "/checkout/1")


def test_blank_lines_and_surrounding_blanks_are_ignored() -> None:
    assert matches("\n  /shop/*  \n\n", "/shop/x")


def test_markup_in_a_path_is_only_text() -> None:
    assert not matches("/shop/*", "/<script>alert(1)</script>")
    assert matches("/*", "/<script>alert(1)</script>")


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("shop/*", "must start with “/”"),
        ("https://shop.example/*", "must start with “/”"),
        ("^/shop/.*$", "looks like a regular expression"),
        ("/shop/.*", "looks like a regular expression"),
        ("/(a+)+$", "looks like a regular expression"),
        ("/(a|aa)*b", "looks like a regular expression"),
        ("/shop/[0-9]+", "looks like a regular expression"),
        ("/shop/\\d{3}", "looks like a regular expression"),
        ("/search?q=boots", "query string"),
        ("/page#top", "query string"),
        ("/shop/ boots", "blanks"),
        ("/shop/\x00", "invisible"),
        ("/" + "a" * MAX_PATTERN_LENGTH, "too long"),
    ],
)
def test_bad_patterns_are_refused_with_a_clear_message(pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        parse_patterns(pattern)


def test_no_pattern_at_all_is_refused() -> None:
    with pytest.raises(PatternError, match="at least one pattern"):
        parse_patterns(" \n \n")


def test_too_many_patterns_are_refused() -> None:
    parse_patterns("\n".join(f"/p{n}" for n in range(MAX_PATTERNS)))
    with pytest.raises(PatternError, match=f"at most {MAX_PATTERNS}"):
        parse_patterns("\n".join(f"/p{n}" for n in range(MAX_PATTERNS + 1)))


def test_one_bad_line_refuses_the_whole_text() -> None:
    with pytest.raises(PatternError, match="regular expression"):
        parse_patterns("/shop/*\n/(x+)+")


def test_a_hostile_path_against_many_stars_is_answered_by_finding_pieces() -> None:
    # The shape that makes a backtracking matcher exponential: pieces that almost match
    # everywhere. Found left to right with str.find, each piece is looked for once.
    pieces = parse_pattern("/" + "a*" * 40 + "b").pieces
    assert glob_match(pieces, "/" + "a" * 2000) is False
    assert glob_match(pieces, "/" + "a" * 2000 + "b") is True
