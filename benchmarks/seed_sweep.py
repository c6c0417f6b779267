"""How far do the lessons' results move with the seed? Run lessons under several seeds (maintainers).

A lesson's figures come from one seed; another seed, or a GPU, draws other random numbers. This
script runs the chosen lessons once per seed with run-all's machinery (`RNN_COURSE_SEED`, each
lesson from a fresh kernel, one at a time) and prints every assertion that failed and the spread
(minimum, median, maximum) of every figure the lessons record.

    python benchmarks/seed_sweep.py --quick --seeds 0-4 01 02 08   # quick mode, seeds 0 to 4
    python benchmarks/seed_sweep.py --seeds 0,1,2 07                # full mode, three seeds
    python benchmarks/seed_sweep.py --quick --seeds 0-4 --no-run    # summarise an earlier sweep

The executed copies and each seed's results.json go to `--out`/seed-N (default build/seed-sweep).
`--json` prints the summary as JSON. Exits 1 when an assertion failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from rnn_course.settings import REPO_ROOT
from rnn_course.tools.runner import NOTEBOOKS_DIR, run_all


def parse_seeds(text: str) -> list[int]:
    """'0-4' -> [0, 1, 2, 3, 4]; '0,2,5' -> [0, 2, 5]."""
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"seeds must look like 0-4 or 0,2,5, got {text!r}")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def summarise(runs: dict[int, list[dict]]) -> dict:
    """Failures and spread of the run-all reports of each seed (seed -> reports).

    Returns {"failures": [{lesson, seed, error}], "spread": {lesson: {figure: {min, median, max,
    unit, seeds}}}}; a lesson's wall time counts as its figure `wall_time_s`; text figures are left out.
    """
    failures, values, units = [], {}, {}
    for seed, reports in sorted(runs.items()):
        for report in reports:
            lesson = report["lesson"]
            if report["status"] != "ok":
                failures.append({"lesson": lesson, "seed": seed, "error": report["error"]})
            figures = {"wall_time_s": {"value": report["wall_time_s"], "unit": "s"}}
            for name, item in {**figures, **report["results"]}.items():
                if isinstance(item["value"], (int, float)):
                    values.setdefault(lesson, {}).setdefault(name, []).append(item["value"])
                    units[lesson, name] = item["unit"]
    spread = {
        lesson: {
            name: {
                "min": min(found),
                "median": statistics.median(found),
                "max": max(found),
                "unit": units[lesson, name],
                "seeds": len(found),
            }
            for name, found in figures.items()
        }
        for lesson, figures in values.items()
    }
    return {"failures": failures, "spread": spread}


def format_summary(summary: dict, seeds: list[int]) -> str:
    """The summary as text: the failed assertions, then one line per figure."""
    lines = [f"seeds {', '.join(map(str, seeds))}"]
    if summary["failures"]:
        lines.append("failed:")
        lines += [f"  {f['lesson']} seed {f['seed']}: {f['error']}" for f in summary["failures"]]
    else:
        lines.append("failed: none")
    lines.append(
        f"{'lesson':16s} {'figure':44s} {'min':>10s} {'median':>10s} {'max':>10s}  (seeds)"
    )
    for lesson, figures in summary["spread"].items():
        for name, s in figures.items():
            numbers = " ".join(f"{s[key]:>10.4g}" for key in ("min", "median", "max"))
            unit = f" {s['unit']}" if s["unit"] else ""
            lines.append(f"{lesson:16s} {name:44s} {numbers}{unit}  ({s['seeds']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lessons to run, e.g. 01 08 (default: all)")
    parser.add_argument("--seeds", default="0-4", help="e.g. 0-4 or 0,2,5 (default 0-4)")
    parser.add_argument("--quick", action="store_true", help="quick mode (default: full mode)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "seed-sweep")
    parser.add_argument("--lessons-folder", type=Path, default=NOTEBOOKS_DIR, dest="folder")
    parser.add_argument(
        "--no-run", action="store_true", help="summarise the results.json files already in --out"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as err:
        parser.error(str(err))
    runs = {}
    for seed in seeds:
        out = args.out / f"seed-{seed}"
        if args.no_run:
            if not (out / "results.json").is_file():
                parser.error(f"no {out / 'results.json'}: run the sweep without --no-run first")
            runs[seed] = json.loads((out / "results.json").read_text())
            continue
        # Progress goes to stderr, so that --json leaves stdout to the summary.
        stdout, sys.stdout = sys.stdout, sys.stderr
        try:
            runs[seed] = run_all(args.quick, False, out, args.lessons or None, args.folder, seed)
        finally:
            sys.stdout = stdout
    summary = summarise(runs)
    print(json.dumps(summary) if args.json else format_summary(summary, seeds))
    return summary


if __name__ == "__main__":
    sys.exit(1 if main()["failures"] else 0)
