"""The two knobs the export's failure tests lean on: validation refusals and slow answers."""

from __future__ import annotations

import pytest
import requests

from local.qbo_emulator import QboEmulator
from tests.emulator.helpers import Api, customer_item, fault, sales_line

DETAIL = "Business Validation Error: Select a product or service for each line with an amount."


def test_rejected_write_is_intuits_validation_fault_with_code_detail_and_element(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    customer_id, item_id = customer_item(api)
    emu.reject_next("6000", DETAIL, entity="Invoice", element="Line")
    invoice = {"CustomerRef": {"value": customer_id}, "Line": [sales_line(item_id, "10.00")]}

    refused = api.post("invoice", invoice, requestid="r-1")
    again = api.post("invoice", invoice, requestid="r-1")  # QBO answers a requestid the same
    fresh = api.post("invoice", invoice, requestid="r-2")

    assert refused.status_code == 400
    body = refused.json()
    assert body["Fault"]["type"] == "ValidationFault"
    assert fault(refused) == {
        "Message": "A business validation error has occurred while processing your request",
        "Detail": DETAIL,
        "code": "6000",
        "element": "Line",
    }
    assert "time" in body
    assert again.status_code == 400 and fault(again)["code"] == "6000"
    assert fresh.status_code == 200
    assert len(emu.entities(realm, "Invoice")) == 1


def test_rejection_waits_for_its_entity_and_leaves_reads_alone(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    emu.reject_next("6000", DETAIL, entity="Invoice")

    assert api.query("select * from Invoice").status_code == 200
    customer_id, item_id = customer_item(api)  # a Customer and an Item are written fine
    invoice = {"CustomerRef": {"value": customer_id}, "Line": [sales_line(item_id, "5.00")]}
    assert api.post("invoice", invoice).status_code == 400


def test_rejection_for_an_unknown_entity_is_a_test_mistake(emu: QboEmulator) -> None:
    with pytest.raises(KeyError):
        emu.reject_next("6000", DETAIL, entity="Invoise")


def test_slow_answer_times_the_client_out_and_still_commits(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    emu.timeout_rate(1.0, seconds=0.4, seed=1)

    with pytest.raises(requests.Timeout):
        api.session.post(
            f"{api.base}/customer",
            json={"DisplayName": "Slow Answer"},
            params={"requestid": "slow-1"},
            timeout=(2, 0.1),
        )
    emu.timeout_rate(0.0, seconds=0)
    retried = api.post("customer", {"DisplayName": "Slow Answer"}, requestid="slow-1")

    # Whichever of the two got there first created it; the other got the same answer.
    assert retried.status_code == 200
    assert [c["DisplayName"] for c in emu.entities(realm, "Customer")] == ["Slow Answer"]
