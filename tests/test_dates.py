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
    SHORT_STYLES,
    STYLES,
    TEST_FRACTION,
    TWO_DIGIT_YEARS,
    CharVocabulary,
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


def test_held_out_dates_are_a_tenth_and_never_trained_on():
    train, test = set(split_dates("train")), set(split_dates("test"))
    days = (LAST_DATE - FIRST_DATE).days + 1
    assert not train & test and len(train) + len(test) == days
    assert len(test) == round(TEST_FRACTION * days)
    assert min(train | test) == FIRST_DATE and max(train | test) == LAST_DATE
    for split, dates in (("train", train), ("test", test)):
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
    for split in ("train", "test"):
        allowed = set(split_dates(split))
        for text, target in date_range_examples(300, split, seed=2):
            start, end = (datetime.date.fromisoformat(part) for part in target.split("/"))
            assert start in allowed and end in allowed and start < end, (text, target)
            assert (end - start).days <= 365 + 60, (text, target)  # the next date of the split
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


def test_the_vocabulary_pads_starts_and_ends():
    vocabulary = CharVocabulary("ab")
    assert vocabulary.tokens == ["<pad>", "<s>", "</s>", "a", "b"] and len(vocabulary) == 5
    assert vocabulary.encode("ba", start=True, end=True) == [1, 4, 3, 2]
    padded, lengths = vocabulary.batch(["ab", "b"], end=True)
    assert padded.tolist() == [[3, 4, 2], [4, 2, 0]] and lengths.tolist() == [3, 2]
    assert padded.dtype == torch.int64 and lengths.dtype == torch.int64
    assert vocabulary.decode(torch.tensor([1, 3, 4, 2, 3])) == "ab"


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: DATE_VOCABULARY.encode("24 Nov 2026!"),
            InputError,
            r"not in the vocabulary: \['!'\]",
        ),
        (lambda: DATE_VOCABULARY.encode(2026), InputTypeError, "text must be a string"),
        (lambda: DATE_VOCABULARY.batch("24 Nov"), InputTypeError, "list of strings"),
        (lambda: date_examples(5, split="valid"), InputError, "split must be 'train' or 'test'"),
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
            "ids must be ints",
        ),
    ],
)
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()
