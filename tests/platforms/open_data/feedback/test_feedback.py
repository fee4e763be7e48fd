import re

import pytest
from fastapi.testclient import TestClient

from exchange.core.settings import Settings
from exchange.platforms.open_data import web
from exchange.platforms.open_data.feedback.staff import issue_staff_token

pytestmark = pytest.mark.both_backends
MESSAGE = "2024 年 3 月的 GDP 数值疑似少了一位小数。"


def form_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m, "the page has a form with a token"
    return m.group(1)


def report(client: TestClient, token: str, **fields: str) -> object:
    data = {"kind": "error", "message": MESSAGE, "csrf_token": token, **fields}
    return client.post("/datasets/macro_indicator/feedback", data=data, follow_redirects=False)


def test_a_visitor_reports_and_the_provider_answers(
    client: TestClient, city: None, settings: Settings
) -> None:
    token = form_token(client, "/datasets/macro_indicator")
    sent = report(client, token, contact="reader@example.com")
    assert sent.status_code == 303
    assert sent.headers["location"] == "/datasets/macro_indicator?feedback=sent#feedback"
    page = client.get(sent.headers["location"])
    assert 'id="feedback-sent"' in page.text and MESSAGE in page.text and "待答复" in page.text
    assert "reader@example.com" not in page.text  # contact details are never public

    staff = TestClient(client.app)
    assert staff.get("/staff/feedback").status_code == 401
    stranger = issue_staff_token(settings, "ZRZY", "李工")
    other = staff.get("/staff/feedback", headers={"Authorization": f"Bearer {stranger}"})
    assert other.status_code == 200 and MESSAGE not in other.text  # not their dataset
    login_token = form_token(staff, "/staff/login")
    signed_in = staff.post(
        "/staff/login",
        data={"token": issue_staff_token(settings, "TJ", "王统计"), "csrf_token": login_token},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    inbox = staff.get("/staff/feedback")
    assert MESSAGE in inbox.text and "reader@example.com" in inbox.text
    feedback_id = re.search(r'data-feedback="([0-9a-f-]+)"', inbox.text).group(1)  # type: ignore[union-attr]
    answer_token = re.search(r'name="csrf_token" value="([^"]+)"', inbox.text).group(1)  # type: ignore[union-attr]
    answered = staff.post(
        f"/staff/feedback/{feedback_id}/answer",
        data={"answer": "已核实并更正，感谢指出。", "csrf_token": answer_token},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    public = client.get("/datasets/macro_indicator").text
    assert "已核实并更正，感谢指出。" in public and "已答复" in public
    assert "answered" in staff.get("/staff/feedback?status=answered").text


def test_other_departments_cannot_answer(
    client: TestClient, city: None, settings: Settings
) -> None:
    report(client, form_token(client, "/datasets/macro_indicator"))
    tj = {"Authorization": f"Bearer {issue_staff_token(settings, 'TJ', '王统计')}"}
    inbox = client.get("/staff/feedback", headers=tj).text
    feedback_id = re.search(r'data-feedback="([0-9a-f-]+)"', inbox).group(1)  # type: ignore[union-attr]
    token = form_token(client, "/datasets/macro_indicator")
    zrzy = {"Authorization": f"Bearer {issue_staff_token(settings, 'ZRZY', '李工')}"}
    refused = client.post(
        f"/staff/feedback/{feedback_id}/answer",
        data={"answer": "不是我们的数据", "csrf_token": token},
        headers=zrzy,
    )
    assert refused.status_code == 403 and "does not provide" in refused.text
    missing = client.post(
        "/staff/feedback/not-an-id/answer", data={"answer": "好的", "csrf_token": token}, headers=tj
    )
    assert missing.status_code == 404


def test_forged_or_missing_tokens_are_refused(client: TestClient, city: None) -> None:
    client.get("/datasets/macro_indicator")  # gets the cookie
    assert report(client, "").status_code == 403
    forged = report(client, "abc.0123456789abcdef0123456789abcdef")
    assert forged.status_code == 403 and "csrf_token" in forged.text
    other_browser = TestClient(client.app)
    token = form_token(client, "/datasets/macro_indicator")
    assert report(other_browser, token).status_code == 403  # a token without its cookie


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"kind": "complaint"}, "kind"),
        ({"message": "太短"}, "message"),
        ({"message": "好" * 2001}, "message"),
        ({"contact": "not a contact"}, "contact"),
    ],
)
def test_bad_reports_say_which_field(
    client: TestClient, city: None, fields: dict[str, str], named: str
) -> None:
    r = report(client, form_token(client, "/datasets/macro_indicator"), **fields)
    assert r.status_code == 400 and f"{named}:" in r.text


def test_reports_on_closed_datasets_are_not_taken(client: TestClient, city: None) -> None:
    token = form_token(client, "/datasets/macro_indicator")
    r = client.post(
        "/datasets/population/feedback",
        data={"kind": "error", "message": MESSAGE, "csrf_token": token},
    )
    assert r.status_code == 404


def test_reports_are_rate_limited(
    client: TestClient, city: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(web.LIMITS, "form", 2)
    token = form_token(client, "/datasets/macro_indicator")
    assert [report(client, token).status_code for _ in range(3)] == [303, 303, 429]


def test_numbers_visitors_leave_in_a_report_are_masked_in_public(
    client: TestClient, city: None, settings: Settings
) -> None:
    token = form_token(client, "/datasets/macro_indicator")
    report(client, token, message="数据有误，请回电 13912345678 或发邮件 li.lei@example.com")
    public = client.get("/datasets/macro_indicator").text
    assert "13912345678" not in public and "139****5678" in public
    assert "li.lei@example.com" not in public and "l***@example.com" in public
    tj = {"Authorization": f"Bearer {issue_staff_token(settings, 'TJ', '王统计')}"}
    assert "13912345678" in client.get("/staff/feedback", headers=tj).text  # the provider sees it


def test_a_non_ascii_form_token_is_refused_not_a_500(client: TestClient, city: None) -> None:
    form_token(client, "/datasets/macro_indicator")  # the browser holds the token's cookie
    sent = report(client, "令牌.é")
    assert sent.status_code == 403, sent.text  # type: ignore[attr-defined]
