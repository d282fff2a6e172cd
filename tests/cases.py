"""Paths and shared test data of the pytest suite."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = sorted(path for path in (ROOT / "fixtures").glob("*.json") if path.name != "schema.json")
SCHEMA = ROOT / "fixtures" / "schema.json"
BAD_FIXTURES = ROOT / "tests" / "bad_fixtures"
# The bound issue 14 sets for numbers computed again outside nnscratch's run (the page's
# JSON, the spreadsheet's formulas) against the trace: |a - b| <= 1e-12 + 1e-12 |b|.
ATOL = RTOL = 1e-12
BAD_CASES = json.loads((BAD_FIXTURES / "cases.json").read_text(encoding="utf-8"))["cases"]


def bad_fixture_text(case):
    """base.json with the edits of one case of bad_fixtures/cases.json applied."""
    text = (BAD_FIXTURES / "base.json").read_text(encoding="utf-8")
    for old, new in case["edits"]:
        assert old in text, f"case {case['name']!r}: {old!r} is not in base.json"
        text = text.replace(old, new, 1)
    return text


def r_train(r_session, fixture, trace=False):
    """nn_train of a fixture in R, the result left in R (an R list)."""
    from nnscratch.rbridge import layers_to_r

    f = fixture
    return r_session.call(
        "nn_train", layers_to_r(f.layers), f.X, f.y, f.lr, f.epochs, trace=trace, **f.batching()
    )
