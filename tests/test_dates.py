"""The date generator of lesson 10: every written date means its ISO date, weekdays included."""

import datetime
import random
import re

import pytest
import torch

from rnn_course.dates import (
    CHINESE_DIGITS,
    CHINESE_WEEKDAYS,
    DATE_VOCABULARY,
    FIRST_DATE,
    LAST_DATE,
    LONG_STYLES,
    MAX_INPUT_LENGTH,
    SHORT_STYLES,
    STYLES,
    TEST_FRACTION,
    TWO_DIGIT_YEARS,
    VALID_FRACTION,
    calendar_dates,
    check_written,
    chinese_number,
    date_examples,
    date_range_examples,
    ordinal,
    split_dates,
    styles_for,
    write_date,
)
from rnn_course.errors import InputError, InputTypeError

ENGLISH_FORMATS = {
    "day_mon_year": "%d %b %Y",
    "month_day_year": "%B %d, %Y",
    "us_numeric": "%m/%d/%Y",
    "us_numeric_short": "%m/%d/%y",
    "weekday_day_month_year": "%A, %d %B %Y",
    "weekday_month_day_year": "%A, %B %d, %Y",
    "email": "%a, %d %b %Y %H:%M:%S %z",
}
CHINESE = re.compile(
    r"(\d{4}|[〇零一二三四五六七八九]{4})年(\S+?)月(\S+?)日(?:星期(\S))?(?:\d\d:\d\d)?"
)


def chinese_value(text: str) -> int:
    """The number a date's Chinese numerals or Arabic digits write (二十四 -> 24, 二〇二六 -> 2026)."""
    if text.isdigit():
        return int(text)
    digits = {c: k for k, c in enumerate(CHINESE_DIGITS)} | {"零": 0}
    if "十" in text:
        tens, _, units = text.partition("十")
        return 10 * (digits[tens] if tens else 1) + (digits[units] if units else 0)
    return int("".join(str(digits[c]) for c in text))


def read_back(text: str, style: str) -> tuple[datetime.date, str | None]:
    """Parse a written date independently of the generator: (the date, the weekday written)."""
    squeezed = " ".join(text.split())
    if style in ENGLISH_FORMATS:
        squeezed = re.sub(r"\s*/\s*", "/", squeezed)
        squeezed = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", squeezed, flags=re.I)
        parsed = datetime.datetime.strptime(squeezed.title(), ENGLISH_FORMATS[style]).date()
        named = style.startswith("weekday") or style == "email"
        return parsed, squeezed.split(",")[0].title() if named else None
    match = CHINESE.fullmatch(squeezed.replace(" ", ""))
    assert match, f"{text!r} is not a Chinese date"
    year, month, day, weekday = match.groups()
    date = datetime.date(chinese_value(year), chinese_value(month), chinese_value(day))
    return date, weekday


@pytest.mark.parametrize("style", list(STYLES))
def test_every_style_writes_the_date_it_claims(style):
    rng = random.Random(1)
    dates = split_dates("train")[::97] + [FIRST_DATE, LAST_DATE, datetime.date(2000, 2, 29)]
    for date in styles_for_all(dates, style):
        text = write_date(date, style, rng)
        parsed, weekday = read_back(text, style)
        assert parsed == date, f"{style}: {text!r} reads {parsed}, expected {date}"
        if style.startswith("weekday") or style == "email":
            expected = date.strftime("%a" if style == "email" else "%A")
            assert weekday == expected, f"{text!r}: {date} is a {date:%A}"
        if style == "chinese_numerals_weekday":
            expected = CHINESE_WEEKDAYS[date.weekday()]
            assert weekday == expected or (date.weekday() == 6 and weekday == "天"), (
                f"{text!r}: {date} is 星期{expected}"
            )


def styles_for_all(dates, style):
    return [date for date in dates if styles_for(date, [style])]


def test_the_examples_in_the_style_table_are_24_november_2026():
    date = datetime.date(2026, 11, 24)
    for style, (example, _) in STYLES.items():
        assert read_back(example, style)[0] == date, f"{style}: {example!r}"
        assert read_back(write_date(date, style, random.Random(0)), style)[0] == date


def test_numbers_in_words():
    assert [ordinal(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 24, 31)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "24th", "31st"
    ]  # fmt: skip
    assert [chinese_number(n) for n in (1, 10, 11, 20, 24, 30, 31)] == [
        "一", "十", "十一", "二十", "二十四", "三十", "三十一"
    ]  # fmt: skip


def test_two_digit_years_follow_the_posix_pivot_and_nothing_else():
    low, high = TWO_DIGIT_YEARS
    assert styles_for(datetime.date(low - 1, 12, 31), ["us_numeric_short"]) == []
    assert styles_for(datetime.date(high + 1, 1, 1), ["us_numeric_short"]) == []
    for year in (low, 1999, 2000, high):  # strptime's own pivot agrees
        text = write_date(datetime.date(year, 3, 4), "us_numeric_short", random.Random(0))
        assert read_back(text, "us_numeric_short")[0].year == year
    with pytest.raises(InputError, match="two-digit style is only for 1969-2068"):
        write_date(datetime.date(1950, 1, 1), "us_numeric_short", random.Random(0))


def test_test_and_validation_dates_are_held_out_and_never_trained_on():
    train, valid, test = (set(split_dates(split)) for split in ("train", "valid", "test"))
    days = (LAST_DATE - FIRST_DATE).days + 1
    assert not train & test and not train & valid and not valid & test
    assert len(train) + len(valid) + len(test) == days
    assert len(test) == round(TEST_FRACTION * days) and len(valid) == round(VALID_FRACTION * days)
    assert min(train | valid | test) == FIRST_DATE and max(train | valid | test) == LAST_DATE
    for split, dates in (("train", train), ("valid", valid), ("test", test)):
        for _, target in date_examples(500, split, seed=3):
            assert datetime.date.fromisoformat(target) in dates


def test_samples_are_seeded_and_cover_the_styles_asked_for():
    assert date_examples(50, seed=7) == date_examples(50, seed=7)
    assert date_examples(50, seed=7) != date_examples(50, seed=8)
    long_inputs = [text for text, _ in date_examples(300, "test", LONG_STYLES, seed=1)]
    short_inputs = [text for text, _ in date_examples(300, "test", SHORT_STYLES, seed=1)]
    assert min(map(len, long_inputs)) > sum(map(len, short_inputs)) / len(short_inputs)
    assert set(SHORT_STYLES) | set(LONG_STYLES) == set(STYLES)


def test_ranges_are_two_dates_of_the_split_in_order_and_in_one_style():
    for split in ("train", "valid", "test"):
        allowed = set(split_dates(split))
        days = split_dates(split)
        widest_gap = max((later - earlier).days for earlier, later in zip(days, days[1:]))
        for text, target in date_range_examples(300, split, seed=2):
            start, end = (datetime.date.fromisoformat(part) for part in target.split("/"))
            assert start in allowed and end in allowed and start < end, (text, target)
            assert (end - start).days <= 365 + widest_gap, (text, target)  # the split's next date
            separator = re.search(r" - | to | – |至|到|—", text)
            first, second = text[: separator.start()], text[separator.end() :]
            styles = [s for s in SHORT_STYLES if styles_for(start, [s])]
            readings = {
                s: (read_back(first, s)[0], read_back(second, s)[0])
                for s in styles
                if _reads(first, s) and _reads(second, s)
            }
            assert (start, end) in readings.values(), f"{text!r} does not read {target}"
    assert date_range_examples(20, seed=3) == date_range_examples(20, seed=3)


def _reads(text, style):
    try:
        read_back(text, style)
    except (ValueError, AssertionError):
        return False
    return True


def test_every_character_written_is_in_the_vocabulary():
    ranges = date_range_examples(500, seed=6)
    for text, target in date_examples(3000, seed=5) + ranges:
        assert DATE_VOCABULARY.decode(DATE_VOCABULARY.encode(text + target)) == text + target


def test_the_date_vocabulary_has_padding_start_and_end_first():
    assert DATE_VOCABULARY.tokens[:3] == ["<pad>", "<s>", "</s>"]
    assert (DATE_VOCABULARY.pad_id, DATE_VOCABULARY.start_id, DATE_VOCABULARY.end_id) == (0, 1, 2)


def test_no_written_date_is_longer_than_the_input_guard_allows():
    samples = date_examples(3000, styles=LONG_STYLES, seed=8) + date_range_examples(3000, seed=8)
    longest = max(len(text) for text, _ in samples)
    assert longest <= MAX_INPUT_LENGTH, f"a written date of {longest} characters"
    for text, _ in samples[::10]:
        assert check_written(text) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must hold a date"),
        ("   ", "must hold a date"),
        ("24 Nov 2026 " * 6, "at most 64 characters, got 72"),
        ("24 Nov 2026!", r"characters that no written date of this data holds: \['!'\]"),
        ("24 Nov 1899", "names the year 1899: .* 1900 to 2099 only"),
        ("11/24/2100", "names the year 2100"),
        ("一八九九年十一月二十四日", "names the year 1899"),
        ("1 Jan 2026 to 3 Jan 2100", "names the year 2100"),
    ],
)
def test_the_input_guard_refuses_what_the_data_never_covers(text, message):
    with pytest.raises(InputError, match=message):
        check_written(text)


def test_the_input_guard_reads_years_not_time_zones():
    assert check_written("Tue, 24 Nov 2026 14:05:00 +0800")  # +0800 is no year 800
    assert check_written("二〇二六年十一月二十四日 星期二")
    with pytest.raises(InputTypeError, match="must be a str"):
        check_written(2026)


def test_outputs_are_read_back_as_real_calendar_dates():
    day = datetime.date(2026, 11, 24)
    assert calendar_dates("2026-11-24") == (day,)
    assert calendar_dates("2026-11-24/2026-12-03") == (day, datetime.date(2026, 12, 3))
    for output in ["2026-02-31", "2026-13-01", "1899-12-31", "2026-11-2", "2026-11-24/", "",
                   "2026-11-24 ", "2026-11-24/2026-02-30", "20261124"]:  # fmt: skip
        assert calendar_dates(output) is None, output
    with pytest.raises(InputTypeError, match="output must be a str"):
        calendar_dates(None)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: DATE_VOCABULARY.encode("24 Nov 2026!"),
            InputError,
            r"not in the vocabulary .*: '!'",
        ),
        (lambda: DATE_VOCABULARY.encode(2026), InputTypeError, "text must be a str"),
        (lambda: DATE_VOCABULARY.batch("24 Nov"), InputTypeError, "list of strings"),
        (
            lambda: date_examples(5, split="validation"),
            InputError,
            "split must be 'train', 'valid' or 'test'",
        ),
        (lambda: date_examples(5, styles=["iso"]), InputError, "styles must be names from"),
        (lambda: date_examples(5, styles="day_mon_year"), InputTypeError, "list of style names"),
        (lambda: date_examples(0), InputError, "n must be a positive int"),
        (
            lambda: write_date(datetime.date(1899, 12, 31), "day_mon_year", random.Random(0)),
            InputError,
            "from 1900-01-01 to 2099-12-31",
        ),
        (
            lambda: write_date("2026-11-24", "day_mon_year", random.Random(0)),
            InputError,
            "datetime.date",
        ),
        (
            lambda: write_date(datetime.date(2026, 11, 24), "day_mon_year", 0),
            InputTypeError,
            "random.Random",
        ),
        (
            lambda: write_date(datetime.date(2026, 11, 24), "iso", random.Random(0)),
            InputError,
            "style must be one of",
        ),
        (lambda: DATE_VOCABULARY.decode([3, 999]), InputError, "ids must be ints from 0 to"),
        (
            lambda: DATE_VOCABULARY.decode(torch.ones(2, 2, dtype=torch.int64)),
            InputError,
            "ids must be a 1-D integer tensor",
        ),
    ],
)
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()
