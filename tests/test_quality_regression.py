"""Small subsets of the quality evaluation (`bench/quality.py`) as regression tests,
with thresholds well below the figures the full benchmark measures."""

from __future__ import annotations

import pytest

from bench.quality import (
    EVAL,
    evaluate_context,
    evaluate_continue,
    evaluate_granite,
    evaluate_humaneval,
)

pytestmark = pytest.mark.skipif(not EVAL.exists(), reason=f"no evaluation data at {EVAL}")


def test_humaneval_synthetic_overrun_is_cut_back() -> None:
    result = evaluate_humaneval(EVAL, limit=150)
    assert result["SingleLine"]["exact_full_pct"] >= 95
    assert result["MultiLine"]["exact_full_pct"] >= 85


def test_continue_cases() -> None:
    assert evaluate_continue(EVAL)["passed"] >= 90


def test_granite_raw_outputs_beat_no_postprocessing() -> None:
    scores = evaluate_granite(EVAL, limit=100)["scores"]
    assert scores["ours"]["all"]["em"] >= scores["none"]["all"]["em"]
    assert scores["ours"]["all"]["es"] >= scores["none"]["all"]["es"]


def test_context_ranking_recalls_no_fewer_identifiers_than_plain_bm25() -> None:
    recall = evaluate_context(EVAL, limit=100)["recall_pct"]  # the granite inputs
    assert recall["ours@1024"] >= recall["bm25@1024"]
    assert recall["ours@1024"] >= 30
