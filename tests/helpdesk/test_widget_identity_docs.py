"""The signing snippet in docs/widget-identity.md, run as printed, makes hashes the helpdesk
accepts: the doc cannot drift from the code."""

import re
from pathlib import Path

import pytest

from helpdesk.identity import identity_secret_create, identity_verify

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "widget-identity.md"


def test_the_documented_snippet_signs_ids_the_helpdesk_trusts() -> None:
    snippet = re.search(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert snippet is not None
    namespace: dict[str, object] = {}
    exec(snippet.group(1), namespace)  # noqa: S102  (our own documentation)
    secret = identity_secret_create(name="Shop")

    signature = namespace["helpdesk_identity_hash"](secret.secret, "1001")  # type: ignore[operator]

    assert identity_verify(external_id="1001", signature=signature)
    assert not identity_verify(external_id="1002", signature=signature)
