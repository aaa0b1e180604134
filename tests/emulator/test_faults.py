"""Injected failures and Intuit's throttles, as a client meets them."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from local.qbo_emulator import QboEmulator
from tests.emulator.helpers import Api, fault, token_request


def _ping(api: Api, realm: str) -> requests.Response:
    return api.get(f"companyinfo/{realm}")


def test_fail_next_answers_the_status_then_recovers(emu: QboEmulator, realm: str, api: Api) -> None:
    emu.fail_next(2, status=503)

    statuses = [_ping(api, realm).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert emu.count_requests(realm, method="GET") == 3


def test_injected_429_is_intuits_throttle_fault_with_retry_after(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    emu.fail_next(1, status=429)

    response = _ping(api, realm)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json()["Fault"]["type"] == "ThrottlingFault"
    assert fault(response)["code"] == "003001"


def test_fail_next_for_another_realm_leaves_this_one_alone(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    other = emu.create_company("Other")
    emu.fail_next(1, status=500, realm_id=other)

    assert _ping(api, realm).status_code == 200


def test_fail_next_on_the_token_endpoint(emu: QboEmulator, realm: str) -> None:
    emu.fail_next(1, status=503, kind="oauth")

    assert token_request(emu, grant_type="refresh_token", refresh_token="x").status_code == 503
    assert token_request(emu, grant_type="refresh_token", refresh_token="x").status_code == 400


def test_fault_rate_is_reproducible_with_a_seed(emu: QboEmulator, realm: str, api: Api) -> None:
    def run() -> list[int]:
        emu.fault_rate(0.5, statuses=(500, 503), seed=7)
        return [_ping(api, realm).status_code for _ in range(12)]

    first, second = run(), run()
    emu.fault_rate(0.0)

    assert first == second
    assert {200, 500, 503} >= set(first) and 200 in first and len(set(first)) > 1


def test_more_than_ten_requests_a_second_is_throttled(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    emu.enforce_rate_limits(True)

    statuses = [_ping(api, realm).status_code for _ in range(11)]

    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    assert int(_ping(api, realm).headers["Retry-After"]) >= 1


def test_more_than_500_requests_a_minute_is_throttled(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    # Lift the per-second limit so a tight loop reaches the per-minute one.
    emu.enforce_rate_limits(True, per_second=10_000)

    statuses = [_ping(api, realm).status_code for _ in range(501)]
    throttled = _ping(api, realm)

    assert statuses[:500] == [200] * 500
    assert statuses[500] == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60


def test_compressed_windows_recover_quickly(emu: QboEmulator, realm: str, api: Api) -> None:
    emu.enforce_rate_limits(True, time_scale=0.2)  # the second lasts 200 ms
    statuses = [_ping(api, realm).status_code for _ in range(11)]
    time.sleep(0.25)

    assert 429 in statuses
    assert _ping(api, realm).status_code == 200


def test_more_than_ten_concurrent_requests_are_throttled(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    emu.enforce_rate_limits(True, per_second=100)  # only concurrency can trip
    emu.latency = 0.5
    statuses: list[int] = []

    def call() -> None:
        statuses.append(
            requests.get(
                f"{api.base}/companyinfo/{realm}", headers=dict(api.session.headers), timeout=5
            ).status_code
        )

    threads = [threading.Thread(target=call) for _ in range(14)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses.count(200) == 10
    assert statuses.count(429) == 4
    assert emu.peak_concurrency(realm) == 10


def test_latency_is_served_outside_the_lock_so_requests_overlap(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    emu.latency = 0.5
    threads = [
        threading.Thread(
            target=requests.get,
            args=(f"{api.base}/companyinfo/{realm}",),
            kwargs={"headers": dict(api.session.headers), "timeout": 5},
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Served inside the lock, one request would be in flight at a time. All four need not
    # overlap: on a loaded machine a thread may start after the first answer (CI saw 3).
    assert emu.peak_concurrency(realm) >= 2


def test_timeout_next_makes_the_client_time_out(emu: QboEmulator, realm: str, api: Api) -> None:
    emu.timeout_next(1, seconds=0.5)

    with pytest.raises(requests.Timeout):
        api.session.get(f"{api.base}/companyinfo/{realm}", timeout=0.1)
    assert _ping(api, realm).status_code == 200


def test_crash_after_commit_stores_but_never_answers(
    emu: QboEmulator, realm: str, api: Api
) -> None:
    emu.crash_after_commit_next()

    with pytest.raises(requests.ConnectionError):
        api.post("customer", {"DisplayName": "Lost Answer"}, requestid="r-9")

    assert [c["DisplayName"] for c in emu.entities(realm, "Customer")] == ["Lost Answer"]
    assert emu.requests[-1].status == 0
    retried = api.post("customer", {"DisplayName": "Lost Answer"}, requestid="r-9")
    assert retried.status_code == 200
    assert retried.json()["Customer"]["DisplayName"] == "Lost Answer"
    assert len(emu.entities(realm, "Customer")) == 1


def test_reset_forgets_everything(emu: QboEmulator, realm: str) -> None:
    emu.fail_next(5)
    emu.reset()

    assert emu.requests == []
    with pytest.raises(KeyError):
        emu.entities(realm, "Customer")
