"""Command line: `python -m rnn_course run-all [--quick] [--seed N] [--inplace] [--out DIR] [LESSON ...]`.

`python -m rnn_course colab [--repo OWNER/NAME] [--ref REF]` rewrites the Colab parts.
`python -m rnn_course release [--lang zh]` writes the student editions in exercises/ (with
--lang, a translated edition: notebooks/zh/ and exercises/zh/ from translations/zh/).
`python -m rnn_course translations zh` extracts the lessons' text into the catalogues of
translations/zh/ (changed English becomes fuzzy, as with msgmerge).
`python -m rnn_course grade SUBMISSION... [--out grades.csv] [--timeout S] [--jobs N]
[--shard I/N]` grades notebooks, each in its own sandbox (or share I of N of them);
`python -m rnn_course grade-merge SHARD... --out grades.csv` merges the shards into one table.
`python -m rnn_course assets` draws the course's figures in assets/ and writes the README's results
table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .settings import REPO_ROOT
from .tools.runner import format_table, run_all, save_device_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnn_course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run-all", help="execute every lesson in order from a fresh kernel")
    run.add_argument("--quick", action="store_true", help="quick mode (small data, few epochs)")
    run.add_argument(
        "--inplace", action="store_true", help="store the outputs in notebooks/ (stamped)"
    )
    run.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "build" / "run-all",
        help="folder for the executed copies and results.json (default: build/run-all)",
    )
    run.add_argument(
        "--lessons",
        type=Path,
        default=REPO_ROOT / "notebooks",
        dest="folder",
        help="the folder of the lessons (default: notebooks/)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        help="RNN_COURSE_SEED for every lesson, added to each seed it sets (default: the one set, 0)",
    )
    run.add_argument(
        "--timeout",
        type=int,
        default=1800,
        help="seconds one cell may take (default 1800; a slow machine's full mode may need more)",
    )
    run.add_argument(
        "--device-file",
        action="store_true",
        help="also keep each passing full-mode lesson's results in results/DEVICE.json (commit it)",
    )
    run.add_argument("lessons", nargs="*", help="run only these lessons, e.g. 01 02_time_series")
    colab = commands.add_parser(
        "colab",
        help="rewrite every notebook's Colab badge, setup cell and metadata from pyproject.toml",
    )
    colab.add_argument(
        "--repo", help="GitHub OWNER/NAME to use from now on (saved in pyproject.toml)"
    )
    colab.add_argument(
        "--ref", help="git branch or tag the badges and the install point at (saved; default main)"
    )
    colab.add_argument(
        "--root", type=Path, default=REPO_ROOT, help="repository root (default: this checkout)"
    )
    release = commands.add_parser(
        "release", help="write the student editions (exercises/) from the lessons (notebooks/)"
    )
    release.add_argument("--lessons", type=Path, default=REPO_ROOT / "notebooks")
    release.add_argument("--out", type=Path, default=REPO_ROOT / "exercises")
    release.add_argument(
        "--lang", help="a translation (zh): notebooks/LANG/ and exercises/LANG/ from translations/"
    )
    translations = commands.add_parser(
        "translations", help="update the gettext catalogues of a language from the lessons"
    )
    translations.add_argument("lang", help="language code (zh)")
    grade = commands.add_parser(
        "grade", help="grade submitted notebooks (files or folders) into a table"
    )
    grade.add_argument("submissions", nargs="+", type=Path, help="notebooks or folders of them")
    grade.add_argument(
        "--out", type=Path, default=Path("grades.csv"), help="CSV file; the JSON goes beside it"
    )
    grade.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    grade.add_argument(
        "--jobs", type=int, default=None, help="submissions graded at once (default: one per core)"
    )
    grade.add_argument(
        "--total-timeout",
        type=int,
        default=900,
        help="seconds for one submission in all (default 900)",
    )
    grade.add_argument(
        "--memory",
        type=float,
        default=8,
        help="GiB of address space per kernel and per grading process (default 8)",
    )
    grade.add_argument(
        "--lessons",
        type=Path,
        default=REPO_ROOT / "notebooks",
        help="the instructor's lessons, with solutions (default: notebooks/)",
    )
    grade.add_argument(
        "--shard",
        help="grade only share I of N (e.g. 2/5) into OUT's shard files; then grade-merge",
    )
    merge = commands.add_parser(
        "grade-merge", help="merge the shards of one grading run (grade --shard) into one table"
    )
    merge.add_argument(
        "shards", nargs="+", type=Path, help="the shards' files (CSV, JSON or manifest) or folders"
    )
    merge.add_argument("--out", type=Path, required=True, help="CSV file; the JSON goes beside it")
    assets = commands.add_parser(
        "assets", help="draw the course's figures (map, diagrams, results chart) in assets/"
    )
    assets.add_argument("--lessons", type=Path, default=REPO_ROOT / "notebooks")
    assets.add_argument("--out", type=Path, default=REPO_ROOT / "assets")
    assets.add_argument(
        "--readme",
        type=Path,
        nargs="+",
        default=[REPO_ROOT / "README.md", REPO_ROOT / "README.zh-CN.md"],
        help="the READMEs whose results table to write (default: the English and the Chinese)",
    )
    args = parser.parse_args(argv)
    if args.command == "colab":
        return _colab(args)
    if args.command == "release":
        return _release(args)
    if args.command == "translations":
        return _translations(args)
    if args.command == "grade":
        return _grade(args)
    if args.command == "grade-merge":
        return _grade_merge(args)
    if args.command == "assets":
        return _assets(args)

    if args.seed is not None and args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    reports = run_all(
        args.quick, args.inplace, args.out, args.lessons, args.folder, args.seed, args.timeout
    )
    print()
    print(format_table(reports))
    print(f"\nresults: {args.out / 'results.json'}")
    if args.device_file:
        for path in save_device_results(reports):
            print(f"device results: {path}")
    return 1 if any(r["status"] != "ok" for r in reports) else 0


def _translations(args: argparse.Namespace) -> int:
    from .tools import translation

    try:
        report = translation.update(args.lang)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path, total, fuzzy, untranslated in report:
        print(
            f"{path.relative_to(REPO_ROOT)}: {total} entries, {fuzzy} fuzzy, {untranslated} untranslated"
        )
    return 0


def _colab(args: argparse.Namespace) -> int:
    from .tools.colab import colab_ref, rewrite_all
    from .tools.notebook import repository

    try:
        changed = rewrite_all(args.root, repo=args.repo, ref=args.ref)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    pyproject = args.root / "pyproject.toml"
    print(f"repository {repository(pyproject)} at {colab_ref(pyproject)}")
    for path in changed:
        print(f"rewrote {path.relative_to(args.root)}")
    print(f"{len(changed)} notebook(s) changed")
    return 0


def _release(args: argparse.Namespace) -> int:
    from .tools.release import release

    if args.lang:
        from .tools import translation

        try:
            report = translation.release(args.lang, args.lessons, args.out)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        for path, english in report:
            print(
                f"wrote {path} and its student edition"
                + (f" ({english} pieces still in English)" if english else "")
            )
        return 0
    written, removed = release(args.lessons, args.out)
    for path in written:
        print(f"wrote {path}")
    for path in removed:
        print(f"removed {path} (no such lesson)")
    return 0


def _assets(args: argparse.Namespace) -> int:
    from .tools.assets import write_assets, write_readme_table

    try:
        written, left_out = write_assets(args.out, args.lessons)
        changed = [write_readme_table(readme, args.lessons) for readme in args.readme]
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    for readme, was_changed in zip(args.readme, changed):
        print(f"{'wrote' if was_changed else 'kept'} the results table in {readme}")
    for message in left_out:
        print(message)
    return 0


def _grade(args: argparse.Namespace) -> int:
    from .tools.grading import format_table as grades_table
    from .tools.grading import grade
    from .tools.sandbox import isolation_note
    from .tools.shards import grade_shard, parse_shard

    options = {"timeout": args.timeout, "jobs": args.jobs, "memory_gib": args.memory}
    options["total_timeout"] = args.total_timeout
    try:
        if args.shard is None:
            out = args.out
            rows = grade(args.submissions, args.lessons, out, **options)
        else:
            shard = parse_shard(args.shard)
            rows, out = grade_shard(args.submissions, shard, args.lessons, args.out, **options)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print()
    print(grades_table(rows))
    if rows:
        print(f"\nisolation: {rows[0]['isolation']} ({isolation_note(rows[0]['isolation'])})")
    print(f"\ngrades: {out} (messages: {out.with_suffix('.json')})")
    return 0 if all(row["graded"] for row in rows) else 1


def _grade_merge(args: argparse.Namespace) -> int:
    from .tools.shards import merge

    try:
        rows = merge(args.shards, args.out)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(rows)} submission(s) from the shards: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
