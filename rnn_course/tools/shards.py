"""`grade --shard I/N` and `grade-merge`: grade a class on many machines, then one table.

A shard is a fixed share of the submissions that `grade` finds (`grading.submissions`): they are
sorted by file name, then by a hash of their path as given, and dealt out in turn, so shard I of
N gets the same notebooks whatever order the inputs were listed in, and an equal share of each
lesson. Shard I of N writes, beside `--out` (say `grades.csv`), `grades.shard-I-of-N.csv` and its
JSON (the usual results of that share) and `grades.shard-I-of-N.manifest.json`: the whole
batch's digest, each of its submissions' place in the whole batch, and the version of the course
that graded them (package, lessons and grading settings).

`grade-merge` reads the shards' manifests and rows, refuses a missing, repeated or foreign shard
(another batch, another version of the course) with a message that names it, and writes the
rows in the unsharded order: the same CSV and JSON as one `grade` run over the whole batch.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

from ..settings import PACKAGE_DIR
from . import grading
from .runner import lessons

MANIFEST_VERSION = 1
_SHARD = re.compile(r"(\d+)/(\d+)")
_SHARD_FILE = re.compile(r"\.shard-(\d+)-of-(\d+)\.manifest\.json$")


def parse_shard(text: str) -> tuple[int, int]:
    """'2/5' -> (2, 5): shard I of N, counted from 1; a ValueError names what is wrong."""
    match = _SHARD.fullmatch(str(text).strip())
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"shard is {text!r}; expected I/N with 1 <= I <= N, such as 2/5")
    return int(match[1]), int(match[2])


def _key(path: Path) -> tuple[str, str]:
    return path.name, hashlib.sha256(str(path).encode()).hexdigest()


def select(found: list[Path], index: int, count: int) -> list[Path]:
    """Shard `index` of `count` of `found`, in `found`'s order (see the module's docstring)."""
    dealt = sorted(range(len(found)), key=lambda n: _key(found[n]))[index - 1 :: count]
    return [found[n] for n in sorted(dealt)]


def shard_path(out: Path, index: int, count: int, suffix: str = ".csv") -> Path:
    """Where shard `index` of `count` writes: `grades.csv` -> `grades.shard-2-of-5.csv`."""
    return Path(out).with_name(f"{Path(out).stem}.shard-{index}-of-{count}{suffix}")


def _digest(items) -> str:
    hasher = hashlib.sha256()
    for item in items:
        hasher.update(item if isinstance(item, bytes) else str(item).encode())
        hasher.update(b"\0")
    return hasher.hexdigest()


def course_version(lessons_dir: Path, timeout: int, memory_gib: float) -> dict:
    """What must be the same for two shards to belong to one table."""
    code = sorted(PACKAGE_DIR.rglob("*.py"))
    return {
        "package": _digest(b for path in code for b in (path.name.encode(), path.read_bytes())),
        "lessons": _digest(b for p in lessons(Path(lessons_dir)) for b in (p.name, p.read_bytes())),
        "timeout": timeout,
        "memory_gib": memory_gib,
    }


def write_manifest(
    found: list[Path], index: int, count: int, rows: list[dict], out: Path, version: dict
) -> Path:
    """Write shard `index` of `count`'s manifest beside its results; return its path.

    `found` is the whole batch and `rows` the shard's rows, which must be its share, in order.
    """
    mine = select(found, index, count)
    if [row["submission"] for row in rows] != [str(path) for path in mine]:
        raise ValueError(
            f"shard {index}/{count}: the rows graded are not the shard's share of the batch "
            "(did the submissions change while grading?)"
        )
    place = {str(path): n for n, path in enumerate(found)}
    manifest = {
        "manifest": MANIFEST_VERSION,
        "shard": [index, count],
        "batch": {"count": len(found), "digest": _digest(map(str, found))},
        "version": version,
        "positions": [place[str(path)] for path in mine],
        "results": shard_path(out, index, count, ".json").name,
    }
    path = shard_path(out, index, count, ".manifest.json")
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def grade_shard(
    paths: list[Path], shard: tuple[int, int], lessons_dir: Path, out: Path, **options
) -> tuple[list[dict], Path]:
    """Grade shard `shard` = (I, N) of the submissions in `paths`, as `grading.grade` would.

    `options` go to `grading.grade` (timeout, jobs, memory_gib...). Returns the shard's rows and
    its CSV's path; the manifest is written last, once the rows are.
    """
    index, count = shard
    found = grading.submissions(paths)
    share = functools.partial(select, index=index, count=count)
    csv = shard_path(out, index, count)
    rows = grading.grade(paths, lessons_dir, csv, select=share, **options)
    version = course_version(lessons_dir, options.get("timeout", 120), options.get("memory_gib", 8))
    write_manifest(found, index, count, rows, out, version)
    return rows, csv


def _manifests(inputs: list[Path]) -> list[Path]:
    """The manifest files named by `inputs`: manifests, a shard's CSV or JSON, or folders."""
    found = []
    for path in map(Path, inputs):
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if _SHARD_FILE.search(p.name))
        elif _SHARD_FILE.search(path.name):
            found.append(path)
        else:
            manifest = path.with_name(f"{path.stem}.manifest.json")
            if not _SHARD_FILE.search(manifest.name):
                raise ValueError(
                    f"{path}: not a shard's output (expected NAME.shard-I-of-N.csv, .json or "
                    ".manifest.json, or a folder of them)"
                )
            found.append(manifest)
    return found


def _other_run(manifest: dict, first: dict) -> str:
    """How `manifest`'s run differs from `first`'s ("" when it is the same run)."""
    if manifest["shard"][1] != first["shard"][1]:
        return f"a batch cut in {manifest['shard'][1]} shards, not {first['shard'][1]},"
    if manifest["batch"] != first["batch"]:
        return "another batch of submissions"
    version, expected = manifest["version"], first["version"]
    changed = [key for key in {**expected, **version} if version.get(key) != expected.get(key)]
    return f"another version of the course ({', '.join(changed)} differ)" if changed else ""


def merge(inputs: list[Path], out: Path) -> list[dict]:
    """The `grade-merge` command: check every shard of one batch is there once, write `out`.

    Raises ValueError naming a missing, repeated or unreadable shard, or shards of different
    batches or versions of the course. Returns the merged rows.
    """
    manifests: dict[int, tuple[Path, dict]] = {}
    first: tuple[Path, dict] | None = None
    for path in _manifests(inputs):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            index, count = manifest["shard"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}: not a readable shard manifest ({err})") from None
        if manifest.get("manifest") != MANIFEST_VERSION or not 1 <= index <= count:
            raise ValueError(f"{path}: not a shard manifest of this version of the course")
        first = first or (path, manifest)
        other = _other_run(manifest, first[1])
        if other:
            raise ValueError(
                f"{path} is from {other} than {first[0]}: merge only the shards of one grading run"
            )
        if index in manifests and manifests[index][0].resolve() != path.resolve():
            raise ValueError(f"shard {index}/{count} given twice: {manifests[index][0]} and {path}")
        manifests[index] = (path, manifest)
    if first is None:
        raise ValueError("no shard manifest (NAME.shard-I-of-N.manifest.json) found")
    count = first[1]["shard"][1]
    missing = [n for n in range(1, count + 1) if n not in manifests]
    if missing:
        names = ", ".join(f"{n}/{count}" for n in missing)
        raise ValueError(f"missing shard(s) {names}: grade them, then merge all {count}")
    rows: dict[int, dict] = {}
    for index, (path, manifest) in sorted(manifests.items()):
        results = path.with_name(manifest["results"])
        try:
            shard_rows = json.loads(results.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ValueError(f"shard {index}/{count}: cannot read {results} ({err})") from None
        if len(shard_rows) != len(manifest["positions"]):
            raise ValueError(f"shard {index}/{count}: {results} does not match its manifest")
        rows.update(zip(manifest["positions"], shard_rows))
    if sorted(rows) != list(range(first[1]["batch"]["count"])):
        raise ValueError("the shards do not cover the batch exactly once: grade them again")
    merged = [rows[n] for n in range(len(rows))]
    grading.write_results(merged, Path(out))
    return merged
