"""The crisis statistics against values worked out by hand, and the words and repeats that say what drives a spike."""

from __future__ import annotations

import math

import pytest

from responders.crisis_stats import (
    Limits,
    assess,
    brand_words,
    clusters,
    fold,
    log_binomial_tail,
    log_gamma_poisson_tail,
    negative_signal,
    top_terms,
    volume_signal,
    words,
)


def tail(log_p: float) -> float:
    return math.exp(log_p)


@pytest.mark.parametrize("rate", [1.0, 4.0])
def test_with_shape_one_the_gamma_poisson_tail_is_geometric(rate: float) -> None:
    # shape 1: P(X = j) = (rate / (rate + 1)) (1 / (rate + 1))^j, so P(X >= k) = (1 / (rate + 1))^k
    for k in range(8):
        assert tail(log_gamma_poisson_tail(k, 1.0, rate)) == pytest.approx((1 / (rate + 1)) ** k, rel=1e-12)


def test_the_gamma_poisson_tail_below_and_above_its_mean() -> None:
    # shape 2, rate 1: P(X = j) = (j + 1) / 2^(j + 2): 1/4, 2/8, 3/16, ... (mean 2, so k = 1, 2 sum the lower part)
    assert [tail(log_gamma_poisson_tail(k, 2.0, 1.0)) for k in range(5)] == pytest.approx(
        [1.0, 0.75, 0.5, 0.3125, 0.1875], rel=1e-12
    )


def test_a_gamma_poisson_with_a_sure_mean_is_the_poisson_tail() -> None:
    # Poisson(2): P(X >= 5) = 1 - e^-2 (1 + 2 + 2 + 4/3 + 2/3) = 1 - 7 e^-2
    assert tail(log_gamma_poisson_tail(5, 2e6, 1e6)) == pytest.approx(1 - 7 * math.exp(-2), rel=1e-4)


def test_the_binomial_tail_matches_counting_by_hand() -> None:
    assert tail(log_binomial_tail(8, 10, 0.5)) == pytest.approx((45 + 10 + 1) / 1024, rel=1e-12)
    assert tail(log_binomial_tail(3, 10, 0.5)) == pytest.approx(1 - (1 + 10 + 45) / 1024, rel=1e-12)
    assert tail(log_binomial_tail(2, 3, 0.2)) == pytest.approx(3 * 0.04 * 0.8 + 0.008, rel=1e-12)
    assert log_binomial_tail(0, 5, 0.3) == 0.0 and log_binomial_tail(6, 5, 0.3) == -math.inf
    assert log_binomial_tail(1, 5, 0.0) == -math.inf and log_binomial_tail(5, 5, 1.0) == 0.0


def test_far_tails_keep_their_precision_in_logs() -> None:
    assert tail(log_binomial_tail(40, 40, 0.3)) == pytest.approx(0.3**40, rel=1e-9)
    # 2^-2000 underflows a float; its log does not
    assert log_gamma_poisson_tail(2000, 1.0, 1.0) == pytest.approx(-2000 * math.log(2), rel=1e-12)


def test_three_mentions_after_four_empty_weeks_are_not_significant() -> None:
    # prior Gamma(1, 0.1) + four empty windows = Gamma(1, 4.1): geometric, P(X >= 3) = (1 / 5.1)^3 ~ 0.0075
    signal = volume_signal("brand", 3, [0, 0, 0, 0], Limits(significance=0.001, min_mentions=1))
    assert signal.expected == pytest.approx(1 / 4.1)
    assert signal.p == pytest.approx((1 / 5.1) ** 3) and not signal.spiking


def test_a_real_jump_spikes_and_an_ordinary_busy_hour_does_not() -> None:
    baseline = [10, 12, 9, 11]
    assert volume_signal("brand", 40, baseline, Limits()).spiking
    busy = volume_signal("brand", 18, baseline, Limits())  # twice the usual ~8.6, a chance of about 1 in 20
    assert 0.01 < busy.p < 0.1 and not busy.spiking


def test_a_big_brand_spikes_at_twice_the_usual_not_at_a_merely_unlikely_hour() -> None:
    baseline = [400, 420, 390, 410]  # expects (1 + 1620) / 4.1 ~ 395
    wobble = volume_signal("brand", 700, baseline, Limits())
    assert wobble.p < 0.001 and not wobble.spiking
    assert volume_signal("brand", 800, baseline, Limits()).spiking


def test_min_mentions_keeps_small_numbers_quiet() -> None:
    assert not volume_signal("topic:iade", 9, [0, 0, 0, 0], Limits(min_mentions=10)).spiking
    assert volume_signal("topic:iade", 10, [0, 0, 0, 0], Limits(min_mentions=10)).spiking


def test_the_negative_share_is_judged_against_the_smoothed_baseline_share() -> None:
    # baseline 12 of 40 negative, prior 1.5 of 5: (12 + 1.5) / (40 + 5) = 0.3
    turned = negative_signal("brand", 30, 36, 12, 40, Limits())
    assert turned.expected == pytest.approx(36 * 0.3) and turned.spiking
    assert not negative_signal("brand", 14, 36, 12, 40, Limits()).spiking  # 39%: within reason
    # odds three times the baseline's: from 30% a window needs 56.25% negative to count, however significant
    assert not negative_signal("brand", 50, 100, 12, 40, Limits()).spiking
    assert negative_signal("brand", 60, 100, 12, 40, Limits()).spiking


def test_assess_puts_the_strongest_spike_first() -> None:
    counts = {
        "brand": [(60, 40), (20, 6), (22, 7), (19, 5), (21, 6)],
        "topic:fatura": [(45, 38), (3, 1), (2, 1), (4, 1), (3, 0)],
        "source:x": [(5, 1), (6, 2), (5, 1), (7, 2), (6, 1)],
    }
    signals = assess(counts, Limits())
    assert [s.key for s in signals[:2]] == ["topic:fatura/volume", "topic:fatura/negative"]
    assert {s.key for s in signals if s.spiking} == {
        "topic:fatura/volume", "topic:fatura/negative", "brand/volume", "brand/negative"
    }  # fmt: skip


def test_the_significance_holds_for_the_check_as_a_whole() -> None:
    # 11 after four windows of 2: p ~ 0.00026, enough for one scope's two tests (0.001 / 2 each) but not for three
    # scopes' six (0.001 / 6 each, Bonferroni): more topics and sources must not mean more alerts by chance
    brand = [(11, 0), (2, 0), (2, 0), (2, 0), (2, 0)]
    quiet = [(1, 0), (1, 0), (1, 0), (1, 0), (1, 0)]
    alone = assess({"brand": brand}, Limits())
    assert 0.001 / 6 < alone[0].p < 0.001 / 2 and alone[0].spiking
    crowded = assess({"brand": brand, "source:x": quiet, "topic:iade": quiet}, Limits())
    assert not any(s.spiking for s in crowded)


def test_turkish_case_folds_the_dotted_and_dotless_i() -> None:
    assert fold("İADE") == "iade" and fold("IŞIK") == "ışık" and fold("İstanbul'da") == "istanbul'da"


def test_terms_leave_out_masks_numbers_links_handles_stopwords_and_the_brand() -> None:
    drop = brand_words(["Kuzey Telekom", "@kuzeytelekom", "#KuzeyTelekom"])
    text = "Kuzey Telekom'a İADE için 3 kez yazdım [TCKN] @ayse_k https://x.co/a #KuzeyTelekom #FaturaZammı ve bu"
    assert words(text, drop) == {"iade", "kez", "yazdım", "#faturazammı"}


def test_top_terms_are_the_over_represented_words_and_copies_count_once() -> None:
    baseline = ["internet yavaş", "fatura yüksek geldi", "modem kopuyor", "internet yine yavaş"] * 5
    window = [f"fatura itirazı {i}. kez yanıtsız kaldı sms" for i in range(6)]  # the number differs, not the words
    window += ["izinsiz paket ücreti fatura", "fatura izinsiz paket", "izinsiz paket yüklendi", "internet yavaş"]
    terms = dict(top_terms(window, baseline, limit=10))
    assert terms["izinsiz"] == 3 and terms["paket"] == 3
    assert "kaldı" not in terms  # six copies of one text are one voice: below three texts
    assert "internet" not in terms and "yavaş" not in terms  # as common as ever
    # in 3 of 5 distinct texts, but in 1 of the 4 usual ones too: (3 + 1) / 7 is not twice (1 + 1) / 6
    assert "fatura" not in terms
    assert top_terms(["tek metin"] * 10, baseline) == []


def test_clusters_join_chains_of_repeats_largest_first() -> None:
    pairs = [(5, 3), (6, 5), (7, 3), (10, 9), (11, 2)]
    assert clusters(pairs) == [[3, 5, 6, 7], [2, 11], [9, 10]]
    assert clusters([]) == []
