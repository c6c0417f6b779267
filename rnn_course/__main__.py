"""Command line: `python -m rnn_course run-all [--quick] [--inplace] [--out DIR] [LESSON ...]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .runner import format_table, run_all
from .settings import REPO_ROOT


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
    run.add_argument("lessons", nargs="*", help="run only these lessons, e.g. 01 02_time_series")
    args = parser.parse_args(argv)

    reports = run_all(quick=args.quick, inplace=args.inplace, out_dir=args.out, only=args.lessons)
    print()
    print(format_table(reports))
    print(f"\nresults: {args.out / 'results.json'}")
    return 1 if any(r["status"] != "ok" for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
