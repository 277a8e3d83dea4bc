"""The failed sign-in limiter's arithmetic, on a clock the test moves (the over-the-socket
behaviour is in test_registration.py and, for the address limit, test_fuzz.py's 429s)."""

from __future__ import annotations

from server.ratelimit import SignInLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limiter(clock: Clock) -> SignInLimiter:
    return SignInLimiter(max_per_terminal=3, max_per_address=5, window=60.0, clock=clock)


def test_a_terminal_is_throttled_after_its_limit_until_the_oldest_failure_ages_out() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    for _ in range(3):
        assert limiter.retry_after("00000001", "10.0.0.1") == 0
        limiter.failed("00000001", "10.0.0.1")
        clock.now += 10  # failures at 1000, 1010, 1020
    assert limiter.retry_after("00000001", "10.0.0.2") == 30  # any address; 1000 ages out at 1060
    clock.now = 1059.5
    assert limiter.retry_after("00000001", "10.0.0.2") == 1
    clock.now = 1060.0
    assert limiter.retry_after("00000001", "10.0.0.2") == 0
    assert limiter.retry_after("00000002", "10.0.0.3") == 0  # other terminals are unaffected


def test_one_address_guessing_at_many_terminals_is_throttled() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    for n in range(5):
        limiter.failed(f"0000000{n}", "192.0.2.7")
    assert limiter.retry_after("00000009", "192.0.2.7") == 60
    assert limiter.retry_after("00000009", "192.0.2.8") == 0


def test_a_success_clears_the_terminal_but_not_the_address() -> None:
    clock = Clock()
    limiter = _limiter(clock)
    for _ in range(2):
        limiter.failed("00000001", "192.0.2.7")
    limiter.succeeded("00000001")
    limiter.failed("00000001", "192.0.2.7")
    assert limiter.retry_after("00000001", "192.0.2.99") == 0  # 1 failure since the success
    for _ in range(2):
        limiter.failed("00000001", "192.0.2.7")
    assert limiter.retry_after("00000002", "192.0.2.7") > 0  # the address has 5
