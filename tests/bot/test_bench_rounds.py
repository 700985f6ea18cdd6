"""How `bot bench` folds repeated rounds into the figures it reports."""

from __future__ import annotations

from bot.benchmark import median_round, report


def a_round(p50: float, bare: float, cold: float, bound: float, mix: float, rss: float,
            errors: int = 0) -> dict:
    return {
        "single": {"count": 200, "errors": 0, "bare_e5_ms": bare, "p50_ms": p50, "p99_ms": p50 * 2,
                   "ratio_p50": p50 / bare},
        "bare_e5_ms": bare,
        "cold_20": {"count": 800, "errors": errors, "per_s": cold, "p50_ms": 300.0, "p99_ms": 600.0},
        "mix_20": {"count": 600, "errors": 0, "per_s": mix, "p50_ms": 100.0, "p99_ms": 400.0},
        "peak_rss_mb": rss,
        "e5_alone_per_s": 80.0,
        "e5_one_core_ms": 2000 / bound,
        "cold_bound_per_s": bound,
        "literal_bound_per_s": 2000 / bare,
    }


def test_ratios_are_medians_of_each_rounds_ratio_and_errors_add_up() -> None:
    rounds = [
        a_round(p50=30, bare=20, cold=60, bound=80, mix=150, rss=600),  # 1.50x, 0.75x
        a_round(p50=24, bare=20, cold=72, bound=80, mix=170, rss=650, errors=2),  # 1.20x, 0.90x
        a_round(p50=40, bare=25, cold=68, bound=85, mix=160, rss=620),  # 1.60x, 0.80x
    ]
    folded = median_round(rounds)
    assert folded["ratios"]["single_p50"] == 1.5
    assert folded["ratios"]["cold"] == 0.8
    assert folded["mix_20"]["per_s"] == 160
    assert folded["cold_20"]["errors"] == 2  # any round's error counts
    assert folded["peak_rss_mb"] == 650  # the worst round, not the median
    text = report("dev-2k", {"entries": 2000, "build_cold_s": 80.0, "edit_searchable_s": 0.06,
                             "rounds": rounds, **folded})
    assert "(0.80x), errors 2 [rounds: 0.75x, 0.90x, 0.80x]" in text
    assert "[rounds: 150/s, 170/s, 160/s]" in text
    assert "| 650 MB |" in text


def test_one_round_reports_no_spread() -> None:
    rounds = [a_round(p50=30, bare=20, cold=60, bound=80, mix=150, rss=600)]
    text = report("dev-2k", {"entries": 2000, "build_cold_s": 80.0, "edit_searchable_s": 0.06,
                             "rounds": rounds, **median_round(rounds)})
    assert "[rounds:" not in text
    assert "(p50 = 1.50x e5" in text
