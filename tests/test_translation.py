"""The Chinese edition: its catalogues complete and faithful to the English, its notebooks the
English lessons cell for cell, and `release --lang zh` reproducing them."""

from __future__ import annotations

import io
import re
import tokenize

import nbformat
import polib
import pytest

from rnn_course.settings import REPO_ROOT
from rnn_course.tools import colab, translation
from rnn_course.tools.release import EXERCISES_DIR
from rnn_course.tools.runner import NOTEBOOKS_DIR, lessons

LESSONS = lessons()
FIX = "python -m rnn_course translations zh, translate, then python -m rnn_course release --lang zh"


def code_without_comments(source: str) -> list[tuple[int, str]]:
    """The tokens of a code cell, comments left out (IPython magics: the source as it is)."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        return [(t.type, t.string) for t in tokens if t.type != tokenize.COMMENT]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [(0, source)]


def test_every_entry_is_translated_and_keeps_what_it_must():
    problems = translation.problems("zh")
    assert not problems, f"{len(problems)} problems ({FIX}):\n" + "\n".join(problems[:40])


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_the_chinese_lesson_is_the_english_one_cell_for_cell(lesson):
    english = nbformat.read(lesson, as_version=4)
    chinese = nbformat.read(NOTEBOOKS_DIR / "zh" / lesson.name, as_version=4)
    assert [(c.id, c.cell_type) for c in chinese.cells] == [
        (c.id, c.cell_type) for c in english.cells
    ]
    for ours, theirs in zip(chinese.cells, english.cells):
        if ours.cell_type == "code":
            assert code_without_comments(ours.source) == code_without_comments(theirs.source)
            assert ours.outputs == theirs.outputs, f"cell {ours.id}: the English run's outputs"
    text = "".join(c.source for c in chinese.cells if c.cell_type == "markdown")
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in text) > 1000, "the Markdown is not Chinese"


def test_the_chinese_editions_are_current(tmp_path):
    """`release --lang zh`, run now into a temporary folder, writes the committed files."""
    (tmp_path / "notebooks").mkdir()
    for lesson in LESSONS:
        (tmp_path / "notebooks" / lesson.name).write_bytes(lesson.read_bytes())
    translation.release("zh", tmp_path / "notebooks", tmp_path / "exercises")
    for folder, committed in (("notebooks", NOTEBOOKS_DIR), ("exercises", EXERCISES_DIR)):
        for lesson in LESSONS:
            made = (tmp_path / folder / "zh" / lesson.name).read_text()
            path = committed / "zh" / lesson.name
            assert path.is_file() and path.read_text() == made, f"{path} is stale: {FIX}"


def test_release_is_deterministic(tmp_path):
    made = []
    for run in ("a", "b"):
        (tmp_path / run / "notebooks").mkdir(parents=True)
        lesson = LESSONS[0]
        (tmp_path / run / "notebooks" / lesson.name).write_bytes(lesson.read_bytes())
        translation.release("zh", tmp_path / run / "notebooks", tmp_path / run / "exercises")
        made.append((tmp_path / run / "exercises" / "zh" / lesson.name).read_bytes())
    assert made[0] == made[1]


def test_the_badges_open_the_chinese_files():
    assert not [line for line in colab.check_all() if "/zh/" in line]
    for folder in (NOTEBOOKS_DIR / "zh", EXERCISES_DIR / "zh"):
        for path in lessons(folder):
            title = nbformat.read(path, as_version=4).cells[0].source
            assert f"/{folder.parent.name}/zh/{path.name})" in title, path


def test_the_chinese_readme_mirrors_the_english_one():
    english = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    chinese = (REPO_ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "[简体中文](README.zh-CN.md)" in english.splitlines()[2]
    assert "[English](README.md)" in chinese.splitlines()[2]
    sections = re.compile(r"^## ", re.M)
    assert len(sections.findall(chinese)) == len(sections.findall(english))
    fences = re.compile(r"^```.*?^```", re.M | re.S)  # the commands, byte for byte
    assert fences.findall(chinese) == fences.findall(english)


def test_one_changed_sentence_makes_one_entry_fuzzy_and_the_check_fails_until_retranslated():
    lesson = LESSONS[9]
    notebook = nbformat.read(lesson, as_version=4)
    catalogue = polib.pofile(str(translation.catalogue_path("zh", lesson)), wrapwidth=0)
    assert not [e for e in catalogue if translation.entry_problems(e)]
    cell = next(c for c in notebook.cells if c.cell_type == "markdown" and ". " in c.source)
    sentence = cell.source.split(". ")[0]
    cell.source = cell.source.replace(sentence, sentence + ", as the next section shows", 1)

    merged = translation.merge(catalogue, translation.entries(notebook), "zh", lesson)

    fuzzy = merged.fuzzy_entries()
    assert len(fuzzy) == 1 and len(merged) == len(catalogue)
    assert fuzzy[0].previous_msgid in {e.msgid for e in catalogue}
    assert "as the next section shows" in fuzzy[0].msgid and fuzzy[0].msgstr
    problems = [line for e in merged for line in translation.entry_problems(e)]
    assert len(problems) == 1 and "fuzzy" in problems[0]
    fuzzy[0].flags.remove("fuzzy")  # the translator checks the entry again and unmarks it
    assert not [line for e in merged for line in translation.entry_problems(e)]


def test_merge_keeps_drops_and_adds_as_msgmerge_does():
    old = polib.POFile()
    old.append(polib.POEntry(msgctxt="a", msgid="Kept text here.", msgstr="保留。"))
    old.append(polib.POEntry(msgctxt="a", msgid="Removed altogether.", msgstr="删除。"))
    new = [("a", "Kept text here.", ""), ("b", "A new paragraph.", "")]
    merged = translation.merge(old, new, "zh", LESSONS[0])
    assert [(e.msgid, e.msgstr, e.fuzzy) for e in merged] == [
        ("Kept text here.", "保留。", False),
        ("A new paragraph.", "", False),
    ]


@pytest.mark.parametrize(
    "english, chinese, wrong",
    [
        ("Train for 24,000 steps.", "训练 2.4 万步。", True),
        ("Call `nn.RNN` here.", "在这里调用 `nn.LSTM`。", True),
        ("The loss $L = -\\log p$ falls.", "损失 $L = \\log p$ 下降。", True),
        ("See [the docs](https://pytorch.org/docs).", "见[文档](https://pytorch.org)。", True),
        ("Train for 24,000 steps with `lr=0.01`.", "用 `lr=0.01` 训练 24,000 步。", False),
        ("Lesson 07's digit.", "第 07 课的数字。", False),
    ],
)
def test_a_translation_must_keep_numbers_code_formulas_and_addresses(english, chinese, wrong):
    entry = polib.POEntry(msgctxt="x", msgid=english, msgstr=chinese)
    assert bool(translation.entry_problems(entry)) == wrong


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language must be one of zh, got 'fr'"):
        translation.release("fr")


@pytest.mark.parametrize(
    "text, shown",
    [
        ("**暂退法（dropout）**在训练时", True),  # closing ** after ） and before a letter
        ("**暂退法**（dropout）在训练时", False),
        ("**形状**（shape）；", False),
        ("样本：**（窗口，下一个值）对**；", False),
        ("The **context** `c`, and **`nn.Embedding`** stores", False),
    ],
)
def test_bold_that_markdown_would_show_as_asterisks_is_found(text, shown):
    assert bool(translation.unrendered_bold(text)) == shown
