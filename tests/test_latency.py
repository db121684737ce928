"""The latency controller's decisions (pure, fake clock)."""

from __future__ import annotations

from lsp_server.completion.latency import (
    MIN_TOKENS,
    REJOIN_TOKENS,
    LatencyController,
    LatencyPlan,
)
from lsp_server.settings import CompletionSettings


def typed(controller: LatencyController, now: list[float], gaps: list[float]) -> None:
    for gap in gaps:
        now[0] += gap
        controller.edited()


def controller_with(ttft_s: float, rate: float, gap_s: float, wasted: int = 0) -> LatencyController:
    """Measured generations, then `wasted` ones stopped early (before a first token,
    sooner than `ttft_s`: they leave the estimate as it is)."""
    now = [0.0]
    controller = LatencyController(clock=lambda: now[0])
    typed(controller, now, [gap_s] * 6)
    for _ in range(5):
        controller.generated("b", ttft_s, 101, 100 / rate)
    for _ in range(wasted):
        controller.waited("b", ttft_s / 2)
    return controller


def test_before_any_measurement_the_settings_decide() -> None:
    plan = LatencyController().plan("b", CompletionSettings())
    assert plan == LatencyPlan(0.0, 256, "auto")


def test_a_fast_backend_gets_no_debounce_and_the_whole_budget() -> None:
    plan = controller_with(0.03, 1000, 0.12).plan("b", CompletionSettings())
    assert plan == LatencyPlan(0.0, 256, "auto")


def test_a_backend_slower_than_the_target_gets_no_debounce_fewer_tokens_and_short_blocks() -> None:
    plan = controller_with(0.4, 30, 0.12).plan("b", CompletionSettings())
    assert plan.debounce_s == 0  # already late: a wait would only add to it
    # 100 ms left after the first token is 3 tokens: too few for a whole line, and a
    # line the limit cuts is not shown, so the floor is a line's worth; a block is
    # shown only where the model's text shows it fills the hole (`rejoin`), and gets
    # room for a few lines and the code after them.
    assert plan.multiline == "rejoin"
    assert plan.max_tokens == REJOIN_TOKENS
    single = controller_with(0.4, 30, 0.12).plan("b", CompletionSettings(multiline="never"))
    assert (single.max_tokens, single.multiline) == (MIN_TOKENS, "never")
    assert MIN_TOKENS >= 32


def test_the_max_tokens_setting_reaches_only_a_backend_fast_enough_to_use_it() -> None:
    """Issue 18 raised the default 128 → 256 (whole bodies). A CPU model (0.4 s to
    the first token, 30 tokens/s) or a mid-range one (0.1 s, 200 tokens/s) is asked for
    what it writes within the target, or room for a block and its return to the suffix
    (`REJOIN_TOKENS`), whatever the setting above that; only a backend that writes more
    than 128 tokens within the target gets more."""
    for ttft_s, rate in ((0.4, 30), (0.1, 200)):
        plans = {
            controller_with(ttft_s, rate, 0.12).plan("b", CompletionSettings(max_tokens=limit))
            for limit in (REJOIN_TOKENS, 256)
        }
        assert len(plans) == 1 and plans.pop().max_tokens <= REJOIN_TOKENS
    fast = [
        controller_with(0.03, 1000, 0.12).plan("b", CompletionSettings(max_tokens=limit))
        for limit in (128, 256)
    ]
    assert [plan.max_tokens for plan in fast] == [128, 256]


def test_a_streaming_client_keeps_its_tokens_and_debounces_out_of_slack() -> None:
    controller = controller_with(0.4, 30, 0.12, wasted=5)
    settings = CompletionSettings()
    plan = controller.plan("b", settings, streaming=True)
    # Its answer waits for the first words only: 0.4 s + 2 tokens leaves ~33 ms.
    assert 0 < plan.debounce_s <= 0.5 - 0.4 - 2 / 30 + 1e-9
    assert (plan.max_tokens, plan.multiline) == (256, "auto")
    assert controller.answer_within_s(settings, streaming=True) == 0.5
    assert controller.answer_within_s(settings, streaming=False) is None


def test_a_backend_with_slack_gets_a_debounce_of_about_a_typing_gap() -> None:
    plan = controller_with(0.1, 400, 0.05, wasted=5).plan("b", CompletionSettings(max_tokens=32))
    assert plan.debounce_s == 0.05 * 1.2


def test_no_debounce_while_requests_are_not_wasted() -> None:
    # Slower than the typing, but each request is kept (typed on, adopted): no wait.
    assert controller_with(0.1, 400, 0.05).plan("b", CompletionSettings()).debounce_s == 0
    # One early stop in eight is not a flood either.
    assert controller_with(0.1, 400, 0.05, wasted=1).plan("b", CompletionSettings()).debounce_s == 0


def test_a_flood_of_cancels_from_the_first_keystroke_teaches_the_ttft_and_debounces() -> None:
    now = [0.0]
    controller = LatencyController(clock=lambda: now[0])
    for _ in range(6):  # a key every 60 ms, each request stopped by the next key
        now[0] += 0.06
        controller.edited()
        controller.waited("b", 0.058)
    ttft, rate = controller.estimate("b")
    assert ttft == 0.058 and rate is None  # longer than that: what the flood tells
    plan = controller.plan("b", CompletionSettings(), streaming=True)
    assert plan.debounce_s == 0.06 * 1.2  # as a warmed-up server's


def test_a_shorter_wait_does_not_lower_the_estimate() -> None:
    controller = controller_with(0.4, 30, 0.12)
    controller.waited("b", 0.1)
    assert controller.estimate("b")[0] == 0.4


def test_a_looser_target_buys_more_tokens() -> None:
    controller = controller_with(0.4, 30, 0.12)
    plan = controller.plan("b", CompletionSettings(target_latency_ms=2400))
    assert plan.max_tokens == 60 and plan.multiline == "auto"


def test_numbers_in_the_settings_override_the_debounce() -> None:
    plan = controller_with(0.4, 30, 0.12).plan("b", CompletionSettings(debounce_ms=30))
    assert plan.debounce_s == 0.03


def test_backends_are_measured_apart_and_pauses_are_not_rhythm() -> None:
    now = [0.0]
    controller = LatencyController(clock=lambda: now[0])
    typed(controller, now, [5.0, 5.0, 5.0, 5.0])
    assert controller.typing_gap_s() is None
    controller.generated("slow", 0.4, 31, 1.0)
    assert controller.estimate("slow") == (0.4, 30.0)
    assert controller.estimate("fast") == (None, None)
