"""Command line: `python -m rnn_course run-all [--quick] [--inplace] [--out DIR] [LESSON ...]`.

`python -m rnn_course colab [--repo OWNER/NAME] [--ref REF]` rewrites the Colab parts.
`python -m rnn_course release` writes the student editions in exercises/.
`python -m rnn_course grade SUBMISSION... [--out grades.csv] [--timeout S] [--jobs N]` grades
notebooks, each in its own sandbox.
`python -m rnn_course assets` draws the course's figures in assets/ and writes the README's results
table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .settings import REPO_ROOT
from .tools.runner import format_table, run_all


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
        "--memory", type=float, default=8, help="GiB of address space per kernel (default 8)"
    )
    grade.add_argument(
        "--lessons",
        type=Path,
        default=REPO_ROOT / "notebooks",
        help="the instructor's lessons, with solutions (default: notebooks/)",
    )
    assets = commands.add_parser(
        "assets", help="draw the course's figures (map, diagrams, results chart) in assets/"
    )
    assets.add_argument("--lessons", type=Path, default=REPO_ROOT / "notebooks")
    assets.add_argument("--out", type=Path, default=REPO_ROOT / "assets")
    assets.add_argument(
        "--readme",
        type=Path,
        default=REPO_ROOT / "README.md",
        help="the README whose results table to write",
    )
    args = parser.parse_args(argv)
    if args.command == "colab":
        return _colab(args)
    if args.command == "release":
        return _release(args)
    if args.command == "grade":
        return _grade(args)
    if args.command == "assets":
        return _assets(args)

    reports = run_all(args.quick, args.inplace, args.out, args.lessons, args.folder)
    print()
    print(format_table(reports))
    print(f"\nresults: {args.out / 'results.json'}")
    return 1 if any(r["status"] != "ok" for r in reports) else 0


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
        changed = write_readme_table(args.readme, args.lessons)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print(f"{'wrote' if changed else 'kept'} the results table in {args.readme}")
    for message in left_out:
        print(message)
    return 0


def _grade(args: argparse.Namespace) -> int:
    from .tools.grading import format_table as grades_table
    from .tools.grading import grade
    from .tools.sandbox import isolation_note

    try:
        rows = grade(args.submissions, args.lessons, args.out, args.timeout, args.jobs, args.memory)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print()
    print(grades_table(rows))
    if rows:
        print(f"\nisolation: {rows[0]['isolation']} ({isolation_note(rows[0]['isolation'])})")
    print(f"\ngrades: {args.out} (messages: {args.out.with_suffix('.json')})")
    return 0 if all(row["graded"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
