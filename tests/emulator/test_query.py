"""QBO's query language: escaping, case, paging, and what QBO refuses."""

from __future__ import annotations

from local.qbo_emulator import QboEmulator
from tests.emulator.helpers import Api, customer_item, fault, sales_line


def _names(api: Api, text: str) -> list[str]:
    response = api.query(text)
    assert response.status_code == 200, response.text
    return [row["DisplayName"] for row in response.json()["QueryResponse"].get("Customer", [])]


def test_quote_inside_a_literal_is_escaped_with_a_backslash(api: Api) -> None:
    api.create("Customer", {"DisplayName": "Jane O'Neil"})

    assert _names(api, "select * from Customer where DisplayName = 'Jane O\\'Neil'") == [
        "Jane O'Neil"
    ]
    unescaped = api.query("select * from Customer where DisplayName = 'Jane O'Neil'")
    assert (unescaped.status_code, fault(unescaped)["code"]) == (400, "4000")


def test_backslash_inside_a_literal_is_escaped_with_a_backslash(api: Api) -> None:
    api.create("Customer", {"DisplayName": "Back\\Slash"})

    assert _names(api, "SELECT * FROM customer WHERE displayname = 'back\\\\slash'") == [
        "Back\\Slash"
    ]


def test_empty_result_has_an_empty_query_response(api: Api) -> None:
    response = api.query("select * from Customer where DisplayName = 'Nobody'")

    assert response.json()["QueryResponse"] == {}
    assert "time" in response.json()


def test_paging_count_and_in(api: Api) -> None:
    ids = [api.create("Customer", {"DisplayName": f"C{n}"})["Id"] for n in range(5)]

    page = api.query("select * from Customer startposition 2 maxresults 2").json()
    count = api.query("select count(*) from Customer").json()
    chosen = _names(api, f"select * from Customer where Id IN ('{ids[0]}', '{ids[4]}')")

    assert page["QueryResponse"]["startPosition"] == 2
    assert page["QueryResponse"]["maxResults"] == 2
    assert [row["DisplayName"] for row in page["QueryResponse"]["Customer"]] == ["C1", "C2"]
    assert count["QueryResponse"] == {"totalCount": 5}
    assert chosen == ["C0", "C4"]


def test_reference_fields_compare_by_id(api: Api) -> None:
    customer_id, item_id = customer_item(api)
    api.create(
        "Invoice",
        {
            "CustomerRef": {"value": customer_id},
            "DocNumber": "INV-9",
            "Line": [sales_line(item_id, "5.00")],
        },
    )

    found = api.query(
        f"select * from Invoice where CustomerRef = '{customer_id}' and DocNumber = 'inv-9'"
    )

    assert len(found.json()["QueryResponse"]["Invoice"]) == 1


def test_inactive_names_are_hidden_unless_asked_for(emu: QboEmulator, realm: str, api: Api) -> None:
    emu.add_customer(realm, "Gone", Active=False)

    assert _names(api, "select * from Customer where DisplayName = 'Gone'") == []
    assert _names(api, "select * from Customer where Active = false") == ["Gone"]


def test_or_and_unqueryable_fields_are_refused(api: Api) -> None:
    with_or = api.query("select * from Customer where DisplayName = 'a' or DisplayName = 'b'")
    unqueryable = api.query("select * from Payment where PrivateNote = 'x'")

    assert fault(with_or)["code"] == "4000"
    assert fault(unqueryable)["code"] == "4001"


def test_like_matches_names_containing_the_text_in_any_case(api: Api) -> None:
    """Intuit's query reference: LIKE's only wildcard is `%` (0 or more characters); names
    compare without regard to case (FACTS.md)."""
    for name in ("O'Neil, Jane", "Jane O'NEIL", "Neil Young", "Jane Doe"):
        api.create("Customer", {"DisplayName": name})
    api.create("Customer", {"DisplayName": "Firm Ltd", "CompanyName": "The O'Neil Firm"})

    contains = "select * from Customer where DisplayName like '%o\\'neil%' orderby DisplayName"
    assert _names(api, contains) == ["Jane O'NEIL", "O'Neil, Jane"]
    assert _names(api, "select * from Customer where DisplayName like 'jane%'") == [
        "Jane O'NEIL",
        "Jane Doe",
    ]
    assert _names(api, "select * from Customer where CompanyName like '%O\\'NEIL F%'") == [
        "Firm Ltd"
    ]


def test_like_takes_underscore_literally_and_hides_inactive_names(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    api.create("Customer", {"DisplayName": "A_B Builders"})
    api.create("Customer", {"DisplayName": "AXB Builders"})
    emu.add_customer(realm, "A_B Old", Active=False)

    assert _names(api, "select * from Customer where DisplayName like '%a_b%'") == ["A_B Builders"]
    asked = "select * from Customer where DisplayName like '%A_B%' and Active = false"
    assert _names(api, asked) == ["A_B Old"]
