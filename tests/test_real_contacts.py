"""Contacts on the real notices in ../shared/real, scored in place by that folder's own score.py.

The texts are real pages and are never copied here; where ../shared/real is absent (a clone
without the shared folder) the test skips and says so. Floors sit a little under what the parser
reaches (README, accuracy table), so a regression fails; a phone or address printed that the
notice does not hold fails at once.
"""

import pytest


FLOORS = {"phones": 0.95, "emails": 0.95, "contact_names": 0.92}


@pytest.mark.parametrize("field", sorted(FLOORS))
def test_contacts_of_real_notices_reach_their_floor(real_tally, field):
    t, misses = real_tally
    assert t.rows[field][1] > 0
    assert t.rate(field) >= FLOORS[field], [m for m in misses if f" {field}: " in m]


@pytest.mark.parametrize("field", ["phones_precision", "emails_precision"])
def test_no_phone_or_address_printed_that_the_notice_does_not_hold(real_tally, field):
    t, misses = real_tally
    assert t.rate(field) == 1.0, [m for m in misses if "printed but not in the notice" in m]
