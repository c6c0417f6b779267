import pytest
import torch

from rnn_course import check, make_windows
from rnn_course.check import CheckFailed


def test_make_windows_accepts_the_reference_and_names_mistakes():
    check.make_windows(make_windows)

    def last_value_target(series, window, horizon=1):
        inputs, _ = make_windows(series, window, horizon)
        return inputs, inputs[:, -1:]

    def one_window_short(series, window, horizon=1):
        inputs, targets = make_windows(series, window, horizon)
        return inputs[:-1], targets[:-1]

    def flat_targets(series, window, horizon=1):
        inputs, targets = make_windows(series, window, horizon)
        return inputs, targets.squeeze(1)

    with pytest.raises(CheckFailed, match="equals the last value of its window"):
        check.make_windows(last_value_target)
    with pytest.raises(CheckFailed, match=r"should have shape \(7, 3\), got \(6, 3\)"):
        check.make_windows(one_window_short)
    with pytest.raises(CheckFailed, match=r"targets should have shape \(7, 1\)"):
        check.make_windows(flat_targets)


def test_seasonal_naive_accepts_the_reference_and_names_mistakes():
    check.seasonal_naive_forecast(lambda h, n, s: h[-s:][torch.arange(n) % s])
    with pytest.raises(CheckFailed, match="that is the naive forecast"):
        check.seasonal_naive_forecast(lambda h, n, s: h[-1].repeat(n))
    with pytest.raises(CheckFailed, match="forecast for horizon 5, season 4 is wrong"):
        check.seasonal_naive_forecast(
            lambda h, n, s: h[-n:] if n <= len(h) else h[-s:].repeat(3)[:n]
        )


def test_standardize_accepts_both_std_definitions_and_names_leaks():
    check.standardize(lambda a, b: ((a - a.mean()) / a.std(), (b - a.mean()) / a.std()))
    check.standardize(
        lambda a, b: ((a - a.mean()) / a.std(correction=0), (b - a.mean()) / a.std(correction=0))
    )

    def leaky(train, test):
        both = torch.cat([train, test])
        return (train - both.mean()) / both.std(), (test - both.mean()) / both.std()

    with pytest.raises(CheckFailed, match="statistics include the test part"):
        check.standardize(leaky)
    with pytest.raises(CheckFailed, match="its own statistics"):
        check.standardize(lambda a, b: ((a - a.mean()) / a.std(), (b - b.mean()) / b.std()))
    with pytest.raises(CheckFailed, match="return a pair"):
        check.standardize(lambda a, b: a)
