"""/admin/metrics/: supervisors only, bad parameters answered with form errors, CSV export."""

import csv
import io
from typing import Any

import pytest
from django.test import Client

from tests.factories import AgentFactory, SupervisorFactory
from tests.routing.metrics_support import DAY, Scene, three_chats

pytestmark = pytest.mark.django_db

URL = "/admin/metrics/"
RANGE = {"since": DAY.isoformat(), "until": DAY.isoformat()}


@pytest.fixture
def supervisor_client(client: Client) -> Client:
    client.force_login(SupervisorFactory())
    return client


def test_anonymous_is_sent_to_log_in(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/admin/metrics/")


def test_an_agent_is_refused(client: Client) -> None:
    client.force_login(AgentFactory(is_staff=True))
    assert client.get(URL).status_code == 403


def test_a_supervisor_sees_the_last_seven_days_by_default(supervisor_client: Client) -> None:
    response = supervisor_client.get(URL)
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.until - report.since).days == 6
    assert report.group_by == "day"
    assert len(report.rows) == 7
    assert b"<svg" in response.content


def test_the_table_and_charts_show_the_figures(supervisor_client: Client) -> None:
    three_chats()
    response = supervisor_client.get(URL, RANGE | {"group_by": "agent"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alice Ames" in html and "Bob Berg" in html and "No agent" in html
    assert "1 min 00 s" in html  # Alice's first response
    assert "15 min 15 s" in html  # the average handling time, 915 s
    assert "38 %" in html  # canned share 3 / 8
    assert 'aria-label="CSAT (average of 5) per agent"' in html


@pytest.mark.parametrize(
    "params, field",
    [
        ({"since": "2024-02-30"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2024-03-05", "until": "2024-03-04"}, "until"),
        ({"since": "2020-01-01", "until": "2024-01-01"}, "until"),
        ({"group_by": "customer"}, "group_by"),
        ({"topic": "999999"}, "topic"),
        ({"topic": "1 OR 1=1"}, "topic"),
        ({"agent": "-1"}, "agent"),
        ({"until": "9" * 40}, "until"),
    ],
)
def test_bad_parameters_are_form_errors(
    supervisor_client: Client, params: dict[str, str], field: str
) -> None:
    response = supervisor_client.get(URL, params)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert response.context["report"] is None
    assert b"invalid-feedback" in response.content


def test_bad_parameters_give_no_csv(supervisor_client: Client) -> None:
    response = supervisor_client.get(URL, {"format": "csv", "since": "nope"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(body[1:])))


def test_csv_has_the_rows_and_totals(supervisor_client: Client) -> None:
    three_chats()
    response = supervisor_client.get(URL, RANGE | {"group_by": "topic", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    header, billing, shipping, total = _csv(response)
    assert header[:3] == ["group", "chats", "first_response_seconds"]
    assert billing[:5] == ["Billing", "2", "120", "915", "60"]
    assert billing[header.index("canned_share")] == "0.375"
    assert shipping[header.index("abandonment_rate")] == "1"
    assert total[:2] == ["Total", "3"]
    assert total[header.index("abandonment_rate")] == "0.3333"


def test_csv_disarms_formulas_in_names(supervisor_client: Client) -> None:
    scene: Scene = three_chats()
    scene.billing.name = '=HYPERLINK("http://evil")'
    scene.billing.save()
    scene.shipping.name = "@SUM(A1)"
    scene.shipping.save()
    response = supervisor_client.get(URL, RANGE | {"group_by": "topic", "format": "csv"})
    labels = [row[0] for row in _csv(response)[1:-1]]
    assert labels == ['\'=HYPERLINK("http://evil")', "'@SUM(A1)"]
