"""The OpenAPI document: `manage.py spectacular --validate --fail-on-warn` passes (a valid
OpenAPI 3 document, no warning of drf-spectacular), and every integrator operation says how it
authenticates and which errors it answers."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

INTEGRATOR = re.compile(r"^/api/v1/(?!public/|console/)")


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("openapi") / "schema.yml"
    # Raises (SchemaGenerationError) on any warning, and on an invalid document.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return path


@pytest.fixture(scope="module")
def integrator_operations(schema_file: Path) -> list[tuple[str, str, dict[str, Any]]]:
    document = yaml.safe_load(schema_file.read_text())
    return [
        (path, method, operation)
        for path, operations in document["paths"].items()
        if INTEGRATOR.match(path)
        for method, operation in operations.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_the_schema_validates_without_warnings(schema_file: Path) -> None:
    assert schema_file.read_text().startswith("openapi: 3")


def test_every_integrator_operation_takes_a_token_and_documents_its_errors(
    integrator_operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    assert len(integrator_operations) > 20
    for path, method, operation in integrator_operations:
        where = f"{method.upper()} {path}"
        assert {"apiToken": []} in operation["security"], where
        assert operation["tags"][0].startswith("integrations: "), where
        assert operation.get("summary"), where
        codes = set(operation["responses"])
        assert {"401", "403", "429"} <= codes, (where, codes)
        assert any(code.startswith("2") for code in codes), (where, codes)


def test_every_integrator_list_is_paged_and_validates_its_filters(
    integrator_operations: list[tuple[str, str, dict[str, Any]]],
) -> None:
    lists = [
        (path, operation)
        for path, method, operation in integrator_operations
        if method == "get"
        and "cursor" in {parameter["name"] for parameter in operation.get("parameters", [])}
    ]
    paths = {path for path, _ in lists}
    assert {
        "/api/v1/topics/",
        "/api/v1/tickets/",
        "/api/v1/articles/",
        "/api/v1/canned-responses/",
        "/api/v1/customers/",
        "/api/v1/ratings/",
    } <= paths
    for path, operation in lists:
        assert {"400", "404"} <= set(operation["responses"]), path
        content = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert content["$ref"].split("/")[-1].startswith("Paginated"), path
