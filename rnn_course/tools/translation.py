"""Translated editions: gettext catalogues beside the English lessons, and the notebooks made
from them.

English is the source. The translatable text of a lesson is its Markdown cells, one entry per
paragraph (a block between blank lines), and the comments of its code cells, one entry per
comment; the setup cell, the Colab badge and the solution markers are not text. Each language
keeps one catalogue per lesson, `translations/LANG/NN_name.po`, in the gettext format that
Weblate, Transifex, Crowdin and Poedit read. Each entry's context (`msgctxt`) is its cell's id.

- `update(lang)` extracts the entries from the lessons and merges them into the catalogues as
  msgmerge does: a translated entry whose English is unchanged keeps its translation; one whose
  English changed keeps it too, marked fuzzy, with the old English as `#| msgid`; an entry
  that is new is empty; an entry whose English is gone is dropped.
- `release(lang)` writes `notebooks/LANG/` and `exercises/LANG/`: the same cells in the same
  order, the code byte for byte the English code but for its comments, the English run's
  outputs, the badges pointing at the translated files. Untranslated and fuzzy entries stay in
  English, and are counted.
- `problems(lang)` lists what the fidelity test rejects: a missing or fuzzy entry; a number,
  inline code span, formula or address of the English that its translation changed; a term of
  the language's glossary (`translations/LANG/GLOSSARY.md`) translated otherwise, or its first
  use in a lesson without the English in brackets.
"""

from __future__ import annotations

import copy
import difflib
import io
import re
import tokenize
import unicodedata
from pathlib import Path

import nbformat
import polib

from ..settings import REPO_ROOT
from .colab import _is_setup_cell, retarget_badge
from .notebook import BEGIN_SOLUTION, END_SOLUTION
from .release import EXERCISES_DIR, STUB, student_edition
from .runner import NOTEBOOKS_DIR, lessons

LANGUAGES = {"zh": "Chinese (Simplified)"}  # code -> name, as gettext's Language header
TRANSLATIONS_DIR = REPO_ROOT / "translations"
_BADGE_LINE = re.compile(r"^\[!\[Open In Colab\]")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FENCED = re.compile(r"^\s*(```|~~~).*?^\s*\1", re.M | re.S)
_NOT_TEXT = {BEGIN_SOLUTION, END_SOLUTION, STUB[0]}  # comments that are markers
CODE_NOTE = "a comment in code: keep it on one line"
_TOOL_COMMENT = re.compile(r"^(noqa|type:|fmt:|pragma)")  # comments for tools, not readers
# What a translation must keep exactly as the English has it (`kept`).
_KEPT = [
    re.compile(r"\$\$.+?\$\$", re.S),  # display formulas
    re.compile(r"(?<![\\$])\$[^$\n]+?\$"),  # inline formulas
    re.compile(r"`[^`]+`"),  # inline code (it may run across a line break)
    re.compile(r"(?<=\]\()[^)\s]+(?=\))"),  # the address of a link or an image
    re.compile(r"(?<![A-Za-z0-9_.])\d+(?:[.,:]\d+)*%?"),  # numbers, as written
]


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


def catalogue_path(lang: str, lesson: Path) -> Path:
    return TRANSLATIONS_DIR / _check_lang(lang) / f"{lesson.stem}.po"


# ----------------------------------------------------------------------------- the text


def paragraphs(markdown: str) -> list[tuple[int, int]]:
    """The (start, stop) line ranges of the blocks of `markdown` between blank lines; a fenced
    code block or a `$$` formula is never cut."""
    lines = markdown.split("\n")
    blocks, start, fenced, in_formula = [], None, False, False
    for number, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        if line.count("$$") % 2:
            in_formula = not in_formula
        if line.strip() or fenced or in_formula:
            start = number if start is None else start
        elif start is not None:
            blocks.append((start, number))
            start = None
    if start is not None:
        blocks.append((start, len(lines)))
    return blocks


def _is_text(text: str) -> bool:
    """Whether `text` has words to translate: letters outside its formulas, code and addresses."""
    bare = text
    for pattern in _KEPT:
        bare = pattern.sub(" ", bare)
    return re.search(r"[^\W\d_]{2,}", bare) is not None and not _BADGE_LINE.match(text)


def comments(source: str) -> list[tuple[int, int, int, str]]:
    """The comments of a code cell: (line, start column, end column, text after '# ') of each.

    A cell that Python cannot tokenize (an IPython magic) has none.
    """
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and token.string.strip() not in _NOT_TEXT:
                (line, start), (_, end) = token.start, token.end
                found.append((line - 1, start, end, token.string.lstrip("#").strip()))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    return [c for c in found if not _TOOL_COMMENT.match(c[3]) and _is_text(c[3])]


def _translatable(cell) -> bool:
    """Markdown, and code but the setup cell (tools.colab keeps it the same everywhere)."""
    return cell.cell_type == "markdown" or (
        cell.cell_type == "code" and not _is_setup_cell(cell.source)
    )


def entries(notebook) -> list[tuple[str, str, str]]:
    """(context, English, note for translators) for every translatable piece of `notebook`."""
    found = []
    for cell in notebook.cells:
        if not _translatable(cell):
            continue
        if cell.cell_type == "markdown":
            lines = cell.source.split("\n")
            texts = ["\n".join(lines[a:b]) for a, b in paragraphs(cell.source)]
            found += [(cell.id, text, "") for text in texts if _is_text(text)]
        else:
            found += [(cell.id, text, CODE_NOTE) for *_, text in comments(cell.source)]
    return found


# ----------------------------------------------------------------------------- catalogues


def _new_catalogue(lang: str, lesson: Path) -> polib.POFile:
    catalogue = polib.POFile(wrapwidth=0)
    catalogue.metadata = {
        "Project-Id-Version": f"rnn-course {lesson.stem}",
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    return catalogue


def merge(old: polib.POFile | None, new: list[tuple[str, str, str]], lang: str, lesson: Path):
    """The catalogue of `new` entries, with the translations of `old` carried over (msgmerge's
    rules: same English kept, changed English fuzzy, removed English dropped)."""
    catalogue = _new_catalogue(lang, lesson)
    previous = {} if old is None else {(e.msgctxt, e.msgid): e for e in old if not e.obsolete}
    unused = dict(previous)
    for context, text, note in new:
        entry = polib.POEntry(msgctxt=context, msgid=text, msgstr="", comment=note)
        match = unused.pop((context, text), None)
        if match is None:  # changed English: the closest unused entry of the same cell
            scored = [
                (difflib.SequenceMatcher(None, e.msgid, text).ratio(), n, e)
                for n, ((c, _), e) in enumerate(unused.items())
                if c == context and e.msgstr
            ]
            ratio, _, close = max(scored, default=(0, 0, None))
            if ratio >= 0.5:
                unused.pop((context, close.msgid))
                entry.msgstr, entry.flags = close.msgstr, ["fuzzy"]
                entry.previous_msgid = close.previous_msgid or close.msgid
        else:
            entry.msgstr, entry.flags = match.msgstr, list(match.flags)
            entry.previous_msgid = match.previous_msgid if "fuzzy" in match.flags else None
        if (context, text) in {(e.msgctxt, e.msgid) for e in catalogue}:
            continue  # the same paragraph twice in one cell: one entry serves both
        catalogue.append(entry)
    return catalogue


def update(lang: str, lessons_dir: Path = NOTEBOOKS_DIR) -> list[tuple[Path, int, int, int]]:
    """Extract every lesson's entries into its catalogue for `lang`, merging what is there.

    Returns (catalogue, entries, fuzzy, untranslated) for each lesson.
    """
    report = []
    for lesson in lessons(Path(lessons_dir)):
        path = catalogue_path(lang, lesson)
        old = polib.pofile(str(path), wrapwidth=0) if path.exists() else None
        catalogue = merge(old, entries(nbformat.read(lesson, as_version=4)), lang, lesson)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalogue.save(str(path))
        fuzzy = len(catalogue.fuzzy_entries())
        report.append((path, len(catalogue), fuzzy, len(catalogue.untranslated_entries())))
    return report


# ----------------------------------------------------------------------------- editions


def translate(notebook, catalogue: polib.POFile) -> tuple[nbformat.NotebookNode, int]:
    """A copy of `notebook` with its text replaced by `catalogue`'s translations.

    Returns the copy and the number of pieces left in English (untranslated or fuzzy).
    """
    done = {
        (e.msgctxt, e.msgid): e.msgstr
        for e in catalogue
        if e.msgstr and not e.fuzzy and not e.obsolete
    }
    english = 0

    def translated(context: str, text: str) -> str:
        nonlocal english
        if not _is_text(text):
            return text
        if (context, text) not in done:
            english += 1
        return done.get((context, text), text)

    edition = copy.deepcopy(notebook)
    for cell in edition.cells:
        if not _translatable(cell):
            continue
        lines = cell.source.split("\n")
        if cell.cell_type == "markdown":
            for start, stop in reversed(paragraphs(cell.source)):
                text = translated(cell.id, "\n".join(lines[start:stop]))
                lines[start:stop] = text.split("\n")
        else:
            for line, start, end, text in reversed(comments(cell.source)):
                comment = lines[line][start:end]
                at = comment.index(text)  # after the '# ' as written
                new = comment[:at] + translated(cell.id, text) + comment[at + len(text) :]
                lines[line] = lines[line][:start] + new + lines[line][end:]
        cell.source = "\n".join(lines)
    return edition, english


def release(
    lang: str, lessons_dir: Path = NOTEBOOKS_DIR, exercises_dir: Path = EXERCISES_DIR
) -> list[tuple[Path, int]]:
    """Write `notebooks/LANG/` and `exercises/LANG/` from the lessons and the catalogues.

    Returns each translated lesson written and how many of its pieces stayed in English.
    """
    lessons_dir = Path(lessons_dir)
    out, exercises = lessons_dir / _check_lang(lang), Path(exercises_dir) / lang
    out.mkdir(parents=True, exist_ok=True)
    exercises.mkdir(parents=True, exist_ok=True)
    report = []
    for lesson in lessons(lessons_dir):
        path = catalogue_path(lang, lesson)
        catalogue = polib.pofile(str(path), wrapwidth=0) if path.exists() else polib.POFile()
        edition, english = translate(nbformat.read(lesson, as_version=4), catalogue)
        retarget_badge(edition, f"notebooks/{lang}")
        nbformat.write(edition, out / lesson.name)
        nbformat.write(student_edition(edition, f"exercises/{lang}"), exercises / lesson.name)
        report.append((out / lesson.name, english))
    return report


# ----------------------------------------------------------------------------- fidelity


def kept(text: str) -> list[str]:
    """The parts of `text` that a translation must keep unchanged: numbers, inline code,
    formulas and addresses (each counted as often as it occurs), outside fenced code blocks."""
    found, text = [], _FENCED.sub(" ", text)  # a fenced block's comments may be translated
    for pattern in _KEPT:
        found += pattern.findall(text)
        text = pattern.sub(" ", text)  # a number inside a formula is the formula's
    return sorted(found)


def glossary(lang: str) -> dict[str, str]:
    """The glossary's terms, English -> translation: the first two columns of its table."""
    rows = (TRANSLATIONS_DIR / _check_lang(lang) / "GLOSSARY.md").read_text().splitlines()
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows if row.startswith("|")]
    return {row[0]: row[1] for row in cells[2:]}  # after the header and its rule


def mentions(term: str, text: str) -> bool:
    """Whether the prose of `text` (not its code or formulas) uses the English `term`."""
    for pattern in _KEPT:
        text = pattern.sub(" ", text)
    return re.search(rf"(?<![\w-]){re.escape(term)}(?:s|es)?(?![\w-])", text, re.I) is not None


def term_problems(catalogue: polib.POFile, terms: dict[str, str]) -> list[str]:
    """Glossary terms translated otherwise, and first uses without the English in brackets."""
    found, seen = [], set()
    for entry in catalogue:
        for english, term in terms.items():
            if not mentions(english, entry.msgid):
                continue
            first, _ = english not in seen, seen.add(english)
            if not entry.msgstr or entry.fuzzy:
                continue
            where = f"{entry.msgctxt}: {entry.msgid[:60]!r}"
            if term not in entry.msgstr:
                found.append(f"{where}: {english!r} must be translated {term!r} (the glossary)")
            elif first and english.lower() not in entry.msgstr.lower():
                found.append(
                    f"{where}: the first {term!r} of the lesson needs ({english}) after it"
                )
    return found


def _punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


def unrendered_bold(text: str) -> list[str]:
    """The `**` of `text` that Markdown cannot read as the start or the end of bold text.

    CommonMark's flanking rules: `**` closes only if it follows no space, and, after punctuation
    such as a full-width bracket, only if a space or punctuation comes next: `**暂退法（dropout）**在`
    shows its asterisks, `**暂退法**（dropout）在` does not.
    """
    for pattern in _KEPT[:3]:  # formulas and code hold no emphasis
        text = pattern.sub("x", text)
    found, opening = [], True
    for match in re.finditer(r"(?<!\*)\*\*(?!\*)", text):
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        if opening:
            ok = not after.isspace() and (
                not _punctuation(after) or before.isspace() or _punctuation(before)
            )
        else:
            ok = not before.isspace() and (
                not _punctuation(before) or after.isspace() or _punctuation(after)
            )
        if not ok:
            found.append(text[max(0, match.start() - 12) : match.end() + 12])
        opening = not opening
    return found


def entry_problems(entry: polib.POEntry) -> list[str]:
    """What is wrong with one entry: missing, fuzzy, or a kept part changed."""
    where = f"{entry.msgctxt}: {entry.msgid[:60]!r}"
    if not entry.msgstr:
        return [f"{where}: not translated"]
    if entry.fuzzy:
        return [f"{where}: fuzzy (its English changed): check the translation, then unmark it"]
    english, translation = kept(entry.msgid), kept(entry.msgstr)
    if english != translation:
        lost = sorted(set(english) - set(translation))
        added = sorted(set(translation) - set(english))
        return [f"{where}: the translation must keep {lost} as written; it has {added}"]
    return [
        f"{where}: Markdown will show the asterisks of {snippet!r}: put the bracket outside the bold"
        for snippet in unrendered_bold(entry.msgstr)
    ]


def problems(lang: str, lessons_dir: Path = NOTEBOOKS_DIR) -> list[str]:
    """Every fidelity problem of `lang`'s catalogues against the lessons, one line each."""
    found, terms = [], glossary(lang)
    for lesson in lessons(Path(lessons_dir)):
        path = catalogue_path(lang, lesson)
        if not path.exists():
            found.append(
                f"{path.name}: no catalogue: run `python -m rnn_course translations {lang}`"
            )
            continue
        catalogue = polib.pofile(str(path), wrapwidth=0)
        wanted = {(c, text) for c, text, _ in entries(nbformat.read(lesson, as_version=4))}
        have = {(e.msgctxt, e.msgid) for e in catalogue if not e.obsolete}
        if wanted != have:
            found.append(
                f"{path.name}: out of date with {lesson.name}: "
                f"run `python -m rnn_course translations {lang}`"
            )
        found += [f"{path.name}: {line}" for e in catalogue for line in entry_problems(e)]
        found += [f"{path.name}: {line}" for line in term_problems(catalogue, terms)]
    return found
