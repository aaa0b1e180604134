"""qbo/names.py's find-or-create by a unique name, the one every unique-name create uses
(customers, items, accounts): create first; on a taken name, use the active one of that name
if there is one, else try the next name."""

from __future__ import annotations

import pytest
from qbo_sync.qbo.faults import DuplicateName, QboUnavailable
from qbo_sync.qbo.names import first_free


class Names:
    def __init__(self, taken_by_us: set[str], taken_by_others: set[str]) -> None:
        self.ours, self.others = taken_by_us, taken_by_others
        self.created: list[str] = []
        self.looked_up: list[str] = []

    def create(self, name: str) -> str:
        if name in self.ours or name in self.others:
            raise DuplicateName(400, "6240", "Duplicate Name Exists Error")
        self.created.append(name)
        return f"new:{name}"

    def find(self, name: str) -> str | None:
        self.looked_up.append(name)
        return f"found:{name}" if name in self.ours else None


def test_a_free_name_costs_one_create_and_no_lookup() -> None:
    names = Names(set(), set())
    assert first_free(("Ann", "Ann (2)"), names.create, names.find) == "new:Ann"
    assert names.looked_up == []


def test_a_name_taken_by_an_earlier_attempt_of_ours_is_found_not_made_again() -> None:
    names = Names({"Ann"}, set())
    assert first_free(("Ann", "Ann (2)"), names.create, names.find) == "found:Ann"
    assert names.created == []


def test_a_name_held_by_another_kind_or_an_inactive_one_moves_to_the_next_name() -> None:
    names = Names(set(), {"Ann"})
    assert first_free(("Ann", "Ann (2)"), names.create, names.find) == "new:Ann (2)"
    assert names.looked_up == ["Ann"]


def test_every_name_held_by_another_is_none() -> None:
    names = Names(set(), {"Ann", "Ann (2)"})
    assert first_free(("Ann", "Ann (2)"), names.create, names.find) is None


def test_any_other_fault_propagates_to_the_write_that_judges_it() -> None:
    def down(name: str) -> str:
        raise QboUnavailable(503, "", "Service Unavailable")

    with pytest.raises(QboUnavailable):
        first_free(("Ann",), down, lambda name: None)
