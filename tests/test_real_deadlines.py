"""Real notices (`../shared/real`, scored in place with the set's own scorer; nothing of them is
copied here): deadline dates stay above floors a little under what the parser reaches, recall
and precision, so a regression fails here."""

import pytest

FLOORS = {"deadline_dates": 0.96, "deadline_precision": 0.93}


@pytest.mark.parametrize("field", sorted(FLOORS))
def test_real_deadlines_keep_their_floor(real_tally, field):
    t, misses = real_tally
    assert field in t.rows, f"no labelled {field} scored"
    mine = [m for m in misses if " deadlines" in m]
    assert t.rate(field) >= FLOORS[field], f"{field}: {t.rows[field]}; misses: {mine}"
