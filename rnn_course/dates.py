"""Dates as people write them, in English and Chinese, paired with ISO dates (lesson 10).

`date_examples` draws seeded (written, ISO) pairs such as ("24 Nov 2026", "2026-11-24") or
("二〇二六年十一月二十四日", "2026-11-24") for dates from 1900-01-01 to 2099-12-31, in the styles of
`STYLES`, with noise: extra spaces, upper and lower case, leading zeros or none. A fixed tenth
of the dates is held out for testing and a twentieth for validation: `split="test"` and
`split="valid"` draw only from their own dates, `split="train"` from neither.

Numeric dates are ambiguous, so the data fixes one convention: slashes are read the US way,
month/day/year, and a two-digit year follows POSIX `strptime`'s pivot (69-99 -> 1969-1999,
00-68 -> 2000-2068), so the two-digit style is only used for dates from 1969 to 2068.

`DATE_VOCABULARY`, a `text.Vocabulary` with padding, start and end tokens, holds every
character the generator can write.
"""

from __future__ import annotations

import bisect
import datetime
import random
import re
from collections.abc import Iterable, Sequence
from functools import cache

from .errors import InputError, InputTypeError
from .text import Vocabulary
from .validation import check_positive_int, describe

FIRST_DATE = datetime.date(1900, 1, 1)
LAST_DATE = datetime.date(2099, 12, 31)
TEST_FRACTION = 0.1
VALID_FRACTION = 0.05
SPLIT_SEED = 2026  # fixes which dates are held out, whatever seed a sample uses
TWO_DIGIT_YEARS = (1969, 2068)  # POSIX strptime's %y: 69-99 -> 19xx, 00-68 -> 20xx

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
CHINESE_DIGITS = "〇一二三四五六七八九"
CHINESE_WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]  # 星期一 ... 星期日 (Monday first)

# Each style: an example (24 November 2026) and whether it counts as a long input.
STYLES = {
    "day_mon_year": ("24 Nov 2026", False),
    "month_day_year": ("November 24, 2026", False),
    "us_numeric": ("11/24/2026", False),
    "us_numeric_short": ("11/24/26", False),
    "chinese_digits": ("2026年11月24日", False),
    "chinese_numerals": ("二〇二六年十一月二十四日", False),
    "weekday_day_month_year": ("Tuesday, 24 November 2026", True),
    "weekday_month_day_year": ("Tuesday, November 24th, 2026", True),
    "chinese_numerals_weekday": ("二〇二六年十一月二十四日 星期二", True),
    "email": ("Tue, 24 Nov 2026 14:05:00 +0100", True),
    "chinese_digits_time": ("2026年11月24日 14:05", True),
}
SHORT_STYLES = tuple(name for name, (_, long) in STYLES.items() if not long)
LONG_STYLES = tuple(name for name, (_, long) in STYLES.items() if long)


# --------------------------------------------------------------------------- writing one date


def iso(date: datetime.date) -> str:
    """'2026-11-24': the ISO 8601 form, the model's target."""
    return date.isoformat()


def ordinal(day: int) -> str:
    """'1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', ..."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def chinese_number(n: int) -> str:
    """1..31 in Chinese numerals: 一, 十, 十一, 二十, 二十四, 三十一."""
    tens, units = divmod(n, 10)
    text = ("" if tens < 2 else CHINESE_DIGITS[tens]) + ("十" if tens else "")
    return text + (CHINESE_DIGITS[units] if units else "")


def chinese_year(year: int, rng: random.Random) -> str:
    """2026 digit by digit: 二〇二六 (zero written 〇, or sometimes 零)."""
    zero = "零" if rng.random() < 0.2 else "〇"
    return "".join(zero if d == "0" else CHINESE_DIGITS[int(d)] for d in str(year))


def _case(word: str, rng: random.Random) -> str:
    """The word as written (mostly), or in capitals, or in lower case."""
    return rng.choices([word, word.upper(), word.lower()], weights=[8, 1, 1])[0]


def _number(n: int, rng: random.Random) -> str:
    """'4' or '04' (a leading zero half the time)."""
    return f"{n:02d}" if rng.random() < 0.5 else str(n)


def _join(tokens: Sequence[str], rng: random.Random, separator: str = " ") -> str:
    """Tokens joined by `separator`, with extra spaces now and then (the generator's noise)."""

    def gap() -> str:
        return " " * rng.choices([0, 1, 2], weights=[6, 3, 1])[0]

    text = tokens[0]
    for token in tokens[1:]:
        text += (separator if separator == " " else gap() + separator) + gap() + token
    return gap() + text + gap()


def write_date(date: datetime.date, style: str, rng: random.Random) -> str:
    """`date` written in `style` (a key of `STYLES`) with `rng`'s noise."""
    if not isinstance(date, datetime.date) or not FIRST_DATE <= date <= LAST_DATE:
        raise InputError(
            f"date must be a datetime.date from {FIRST_DATE} to {LAST_DATE}, got {date!r}"
        )
    if not isinstance(rng, random.Random):
        raise InputTypeError(f"rng must be a random.Random, got {describe(rng)}")
    y, m, d = date.year, date.month, date.day
    month, weekday = _case(MONTHS[m - 1], rng), _case(WEEKDAYS[date.weekday()], rng)
    if style == "day_mon_year":
        return _join([_number(d, rng), month[:3], str(y)], rng)
    if style == "month_day_year":
        return _join([month, f"{d},", str(y)], rng)
    if style == "us_numeric":
        return _join([_number(m, rng), _number(d, rng), str(y)], rng, separator="/")
    if style == "us_numeric_short":
        if not TWO_DIGIT_YEARS[0] <= y <= TWO_DIGIT_YEARS[1]:
            raise InputError(
                f"the two-digit style is only for {TWO_DIGIT_YEARS[0]}-{TWO_DIGIT_YEARS[1]}, "
                f"got {iso(date)}"
            )
        return _join([_number(m, rng), _number(d, rng), f"{y % 100:02d}"], rng, separator="/")
    if style == "chinese_digits":
        return _join([f"{y}年", f"{m}月", f"{d}日"], rng, separator="")
    chinese = f"{chinese_year(y, rng)}年{chinese_number(m)}月{chinese_number(d)}日"
    if style == "chinese_numerals":
        return _join([chinese], rng)
    if style == "weekday_day_month_year":
        return _join([f"{weekday},", _number(d, rng), month, str(y)], rng)
    if style == "weekday_month_day_year":
        return _join([f"{weekday},", month, f"{ordinal(d)},", str(y)], rng)
    if style == "chinese_numerals_weekday":
        sunday = rng.choice(["日", "天"])  # 星期日 and 星期天 both say Sunday
        day_name = sunday if date.weekday() == 6 else CHINESE_WEEKDAYS[date.weekday()]
        return _join([chinese, f"星期{day_name}"], rng)
    if style == "email":  # RFC 5322's date, as in an e-mail header
        time = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        zone = rng.choice(["+0000", "+0100", "+0800", "-0500", "-0800", "+0530"])
        return _join([f"{weekday[:3]},", _number(d, rng), month[:3], str(y), time, zone], rng)
    if style == "chinese_digits_time":
        time = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        return _join([_join([f"{y}年", f"{m}月", f"{d}日"], rng, separator=""), time], rng)
    raise InputError(f"style must be one of {', '.join(STYLES)}, got {style!r}")


def styles_for(date: datetime.date, styles: Iterable[str]) -> list[str]:
    """The styles of `styles` that can write `date` without ambiguity."""
    low, high = TWO_DIGIT_YEARS
    return [s for s in styles if s != "us_numeric_short" or low <= date.year <= high]


# --------------------------------------------------------------------------- samples


@cache
def _split_dates() -> dict[str, list[datetime.date]]:
    """Every date of 1900-2099, split once and for all into training, validation and test dates."""
    days = (LAST_DATE - FIRST_DATE).days + 1
    every = [FIRST_DATE + datetime.timedelta(days=k) for k in range(days)]
    test = set(random.Random(SPLIT_SEED).sample(range(days), round(TEST_FRACTION * days)))
    rest = [k for k in range(days) if k not in test]
    valid = set(random.Random(SPLIT_SEED + 1).sample(rest, round(VALID_FRACTION * days)))
    return {
        "train": [every[k] for k in rest if k not in valid],
        "valid": [every[k] for k in sorted(valid)],
        "test": [every[k] for k in sorted(test)],
    }


def split_dates(split: str) -> list[datetime.date]:
    """The dates of `split`, in order: 'train' (85% of 1900-2099), 'valid' (5%, for choosing
    settings) or 'test' (the held-out 10%, touched once)."""
    if split not in ("train", "valid", "test"):
        raise InputError(f"split must be 'train', 'valid' or 'test', got {split!r}")
    return list(_split_dates()[split])


def _check_styles(styles) -> tuple[str, ...]:
    if isinstance(styles, str) or not isinstance(styles, Iterable):
        raise InputTypeError(f"styles must be a list of style names, got {describe(styles)}")
    styles = tuple(styles)
    unknown = [s for s in styles if s not in STYLES]
    if unknown or not styles:
        raise InputError(f"styles must be names from {', '.join(STYLES)}, got {list(styles)!r}")
    return styles


def date_examples(
    n: int, split: str = "train", styles: Iterable[str] = tuple(STYLES), seed: int = 0
) -> list[tuple[str, str]]:
    """`n` seeded (written date, ISO date) pairs from `split`'s dates, in random `styles`.

    Dates are drawn uniformly from `split_dates(split)` (with replacement), then a style that
    can write the date; the same seed gives the same pairs.
    """
    check_positive_int("n", n)
    styles = _check_styles(styles)
    dates = split_dates(split)
    rng = random.Random(seed)
    pairs = []
    while len(pairs) < n:
        date = rng.choice(dates)
        usable = styles_for(date, styles)
        if usable:
            pairs.append((write_date(date, rng.choice(usable), rng), iso(date)))
    return pairs


RANGE_SEPARATORS = {"english": [" - ", " to ", " – "], "chinese": ["至", "到", "—"]}


def date_range_examples(
    n: int,
    split: str = "train",
    styles: Iterable[str] = SHORT_STYLES,
    seed: int = 0,
    max_days: int = 365,
) -> list[tuple[str, str]]:
    """`n` seeded (written range, ISO 8601 interval) pairs such as
    ("24 Nov 2026 to 3 Dec 2026", "2026-11-24/2026-12-03").

    Both dates belong to `split`; the second comes 1 to `max_days` days after the first (the
    first date of the split on or after that day), and both are written in the same style.
    """
    check_positive_int("n", n)
    check_positive_int("max_days", max_days)
    styles = _check_styles(styles)
    dates = split_dates(split)
    rng = random.Random(seed)
    pairs = []
    while len(pairs) < n:
        first = rng.randrange(len(dates) - 1)
        wanted = dates[first] + datetime.timedelta(days=rng.randint(1, max_days))
        second = min(bisect.bisect_left(dates, wanted), len(dates) - 1)
        start, end = dates[first], dates[max(second, first + 1)]
        usable = [s for s in styles_for(start, styles) if s in styles_for(end, styles)]
        if usable:
            style = rng.choice(usable)
            language = "chinese" if style.startswith("chinese") else "english"
            separator = rng.choice(RANGE_SEPARATORS[language])
            written = write_date(start, style, rng).rstrip() + separator
            pairs.append(
                (written + write_date(end, style, rng).lstrip(), f"{iso(start)}/{iso(end)}")
            )
    return pairs


# --------------------------------------------------------------------------- characters as ids


def _date_characters() -> set[str]:
    words = MONTHS + WEEKDAYS
    characters = set("".join(words) + "".join(words).upper() + "".join(words).lower())
    characters |= set("0123456789 ,/-:+") | set("stndrh")  # ordinals: st, nd, rd, th
    characters |= set(CHINESE_DIGITS + "零十年月日星期天") | set("–至到—")
    return characters


DATE_VOCABULARY = Vocabulary("".join(_date_characters()), pad=True, start=True, end=True)


# --------------------------------------------------------------------------- guards


MAX_INPUT_LENGTH = 64  # longer than anything the generator writes (tests/test_dates.py checks)
WRITTEN_YEAR = re.compile(r"(?<![\d+-])\d{4}(?!\d)|[〇零一二三四五六七八九]{4}(?=\s*年)")
CHINESE_VALUES = {char: str(k) for k, char in enumerate(CHINESE_DIGITS)} | {"零": "0"}
ISO_OUTPUT = re.compile(r"\d{4}-\d\d-\d\d(/\d{4}-\d\d-\d\d)?")


def check_written(text: str) -> str:
    """`text` itself if a model trained on this data can read it (lesson 10), else an error.

    Raises `InputError` naming what is wrong: an empty text, one longer than
    `MAX_INPUT_LENGTH`, a character the generator never writes, or a year (four digits, or four
    Chinese numerals before 年) outside 1900-2099. An impossible day such as 31 February is
    caught on the way out, by `calendar_dates`.
    """
    if not isinstance(text, str):
        raise InputTypeError(f"a written date must be a str, got {describe(text)}")
    if not text.strip():
        raise InputError(f"a written date must hold a date, got {text!r}")
    if len(text) > MAX_INPUT_LENGTH:
        raise InputError(
            f"a written date can have at most {MAX_INPUT_LENGTH} characters, got {len(text)}: "
            f"{text[:30]!r}..."
        )
    unknown = sorted(set(text) - set(DATE_VOCABULARY.chars))
    if unknown:
        raise InputError(
            f"{text!r} has characters that no written date of this data holds: {unknown}"
        )
    for year in WRITTEN_YEAR.findall(text):
        value = int("".join(CHINESE_VALUES.get(char, char) for char in year))
        if not FIRST_DATE.year <= value <= LAST_DATE.year:
            raise InputError(
                f"{text!r} names the year {value}: the data, and so the model, covers "
                f"{FIRST_DATE.year} to {LAST_DATE.year} only"
            )
    return text


def calendar_dates(output: str) -> tuple[datetime.date, ...] | None:
    """The dates an output writes, one ('2026-11-24') or an interval's two
    ('2026-11-24/2026-12-03'); None if it is not in that form or names a day that does not
    exist (2026-02-31) or lies outside 1900-2099 (lesson 10)."""
    if not isinstance(output, str):
        raise InputTypeError(f"output must be a str, got {describe(output)}")
    if not ISO_OUTPUT.fullmatch(output):
        return None
    try:
        days = tuple(datetime.date.fromisoformat(part) for part in output.split("/"))
    except ValueError:
        return None
    return days if all(FIRST_DATE <= day <= LAST_DATE for day in days) else None
