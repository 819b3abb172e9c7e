"""Read an admin changelist as the supervisor sees it: one dict per row of `#result_list`,
column name (the cell's `field-<name>` class) to its text. An editable cell (list_editable)
reads as its input's value, or its selected option's text; a boolean cell as "true", "false"
or "none" (the icon's alt text, lowercased)."""

from html.parser import HTMLParser


class _Changelist(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self._in_body = False
        self._column: str | None = None
        self._in_select = False
        self._in_selected_option = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "tbody":
            self._in_body = True
        elif not self._in_body:
            return
        elif tag == "tr":
            self.rows.append({})
        elif tag in ("td", "th"):
            fields = [c for c in (attr.get("class") or "").split() if c.startswith("field-")]
            self._column = fields[0].removeprefix("field-") if fields else None
            if self._column:
                self.rows[-1][self._column] = ""
        elif self._column and tag == "input" and attr.get("type") != "hidden":
            self.rows[-1][self._column] = attr.get("value") or ""
        elif self._column and tag == "select":
            self._in_select = True
        elif self._column and tag == "option" and "selected" in attr:
            self._in_selected_option = True
        elif self._column and tag == "img" and attr.get("alt"):
            self.rows[-1][self._column] = (attr["alt"] or "").lower()

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th"):
            self._column = None
        elif tag == "select":
            self._in_select = False
        elif tag == "option":
            self._in_selected_option = False

    def handle_data(self, data: str) -> None:
        if not (self._in_body and self._column):
            return
        text = data.strip()
        first_text = not self._in_select and text and not self.rows[-1][self._column]
        if self._in_selected_option or first_text:
            self.rows[-1][self._column] = text


def changelist_rows(html: str) -> list[dict[str, str]]:
    parser = _Changelist()
    parser.feed(html)
    return parser.rows
