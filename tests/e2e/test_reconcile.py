"""locust/reconcile.py's check, on hand-made inputs: what it must call exact and what it must not."""
import reconcile


def run(accepted, in_doubt, counted, reports):
    rows, problems, resolved = reconcile.reconcile(accepted, in_doubt, counted, reports)
    return {r[0]: r[1:] for r in rows}, problems, resolved


def test_accepted_plus_counted_in_doubt_is_exact():
    rows, problems, resolved = run({"Ropa": ["a", "b"]}, {"Ropa": ["c", "d"], "Hogar": ["e"]},
                                   {"a": "Ropa", "b": "Ropa", "c": "Ropa", "e": "Hogar"}, {"Ropa": 3, "Hogar": 1})
    assert problems == [] and resolved == {"Ropa": 1, "Hogar": 1}
    assert rows["Ropa"] == (3, 3, True) and rows["TOTAL"] == (4, 4, True)


def test_a_key_that_later_got_its_2xx_is_not_in_doubt():
    _, problems, resolved = run({"Ropa": ["a"]}, {"Ropa": ["a"]}, {"a": "Ropa"}, {"Ropa": 1})
    assert problems == [] and resolved == {}


def test_a_lost_accepted_sale_is_reported():
    _, problems, _ = run({"Ropa": ["a", "b"]}, {}, {"a": "Ropa"}, {"Ropa": 1})
    assert any("not counted" in p for p in problems)
    assert any("bf:reports differs" in p for p in problems)


def test_a_sale_counted_twice_is_reported():
    # the marker says once, the report says twice: the dedup failed
    _, problems, _ = run({"Ropa": ["a"]}, {}, {"a": "Ropa"}, {"Ropa": 2})
    assert problems == ["bf:reports differs from accepted + counted in-doubt sales"]


def test_wrong_category_and_invented_ids_are_reported():
    _, problems, _ = run({"Ropa": ["a"]}, {}, {"a": "Hogar", "zz": "Ropa"}, {"Ropa": 1, "Hogar": 1})
    assert any("not counted under their category" in p for p in problems)
    assert any("never sent" in p for p in problems)
