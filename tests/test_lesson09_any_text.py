"""Lesson 09 runs end to end in quick mode on a Chinese text, swapped in as the lesson tells a
student to: `load_shakespeare()` replaced by `load_text(path)` in the cell that loads the text."""

from __future__ import annotations

import random

import nbformat
import pytest

from rnn_course.settings import CHECKS_ENV, DATA_ENV, QUICK_ENV, SEED_ENV, seed_offset
from rnn_course.tools.runner import NOTEBOOKS_DIR, run_lesson

pytestmark = pytest.mark.long  # many notebooks: .ci/run runs it in its newest job only

LESSON = NOTEBOOKS_DIR / "09_char_language_model.ipynb"

# Real verse (Tang dynasty, public domain), repeated through the text as a real text repeats itself.
POEMS = [
    "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。",
    "白日依山尽，黄河入海流。\n欲穷千里目，更上一层楼。",
    "春眠不觉晓，处处闻啼鸟。\n夜来风雨声，花落知多少。",
    "红豆生南国，春来发几枝。\n愿君多采撷，此物最相思。",
    "千山鸟飞绝，万径人踪灭。\n孤舟蓑笠翁，独钓寒江雪。",
    "国破山河在，城春草木深。\n感时花溅泪，恨别鸟惊心。",
    "锄禾日当午，汗滴禾下土。\n谁知盘中餐，粒粒皆辛苦。",
    "慈母手中线，游子身上衣。\n临行密密缝，意恐迟迟归。",
]


def chinese_text(length: int = 30_000, seed: int = 0) -> str:
    """A Chinese text of about `length` characters with over 2,000 distinct ones, made here.

    Verses of five or seven characters in the poems' layout (two clauses a line), drawn half from
    the poems' own characters and half from the first 2,600 CJK ideographs, with a real poem
    every few lines.
    """
    rng = random.Random(seed)
    common = sorted(set("".join(POEMS)) - set("，。\n"))
    rare = [chr(code) for code in range(0x4E00, 0x4E00 + 2600)]
    pieces, size = [], 0
    while size < length:
        if rng.random() < 0.25:
            piece = rng.choice(POEMS)
        else:
            width = rng.choice((5, 7))
            clauses = [
                "".join(rng.choice(common if rng.random() < 0.5 else rare) for _ in range(width))
                for _ in range(2)
            ]
            piece = f"{clauses[0]}，{clauses[1]}。"
        pieces.append(piece)
        size += len(piece) + 1
    return "\n".join(pieces) + "\n"


def test_the_chinese_text_is_long_and_varied():
    text = chinese_text()
    assert len(text) >= 20_000 and len(set(text)) > 2_000
    assert chinese_text() == text  # the same text every time


def test_lesson_09_runs_on_a_chinese_text(tmp_path, monkeypatch):
    path = tmp_path / "中文.txt"
    path.write_text(chinese_text(), encoding="utf-8")
    notebook = nbformat.read(LESSON, as_version=4)
    cell = next(cell for cell in notebook.cells if cell.get("id") == "load-text")
    assert cell.source.count("load_shakespeare()") == 1, "the lesson loads its text elsewhere now"
    cell.source = cell.source.replace("load_shakespeare()", f"load_text({str(path)!r})")
    copy = tmp_path / LESSON.name
    nbformat.write(notebook, copy)
    for name, value in ((QUICK_ENV, "1"), (CHECKS_ENV, "strict"), (SEED_ENV, str(seed_offset()))):
        monkeypatch.setenv(name, value)  # run_lesson sets these; monkeypatch restores them
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "data"))  # the checkpoint goes there

    executed, report = run_lesson(copy, quick=True)

    assert report["status"] == "ok", report["error"]
    printed = "".join(
        output.get("text", "") for cell in executed.cells for output in cell.get("outputs", [])
    )
    assert "30,0" in printed and "word check skipped" in printed
    assert "inside a speaker's name: skipped" in printed
    results = report["results"]
    assert results["kneser_ney_nats_per_char"]["value"] < results["unigram_nats_per_char"]["value"]
    assert "known_word_fraction" not in results


def test_a_text_too_short_for_the_lesson_stops_at_once(tmp_path, monkeypatch):
    path = tmp_path / "short.txt"
    path.write_text(POEMS[0] * 10, encoding="utf-8")
    notebook = nbformat.read(LESSON, as_version=4)
    ids = [cell.get("id") for cell in notebook.cells]
    notebook.cells = notebook.cells[: ids.index("load-text") + 1]  # up to the loading cell
    cell = notebook.cells[-1]
    cell.source = cell.source.replace("load_shakespeare()", f"load_text({str(path)!r})")
    copy = tmp_path / LESSON.name
    nbformat.write(notebook, copy)
    for name, value in ((QUICK_ENV, "1"), (CHECKS_ENV, "strict"), (SEED_ENV, str(seed_offset()))):
        monkeypatch.setenv(name, value)

    _, report = run_lesson(copy, quick=True)

    expected = f"InputError: the text has {len(POEMS[0] * 10)} characters; lesson 09 needs at least"
    assert report["error"].startswith(expected), report["error"]
