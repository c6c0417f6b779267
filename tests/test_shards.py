"""Grading a class in shards (`grade --shard I/N`, `grade-merge`) and the deploy/ recipes.

Every shard runs as its own process, all of them at once (as a Job's pods and an array's tasks
do), started the way deploy/grading-job.yaml (a Kubernetes Indexed Job) and
deploy/grade-slurm.sh (a Slurm array) start it: their command line and
environment, read from those files, with the container's mounts mapped to folders here (no
container engine runs here: a stand-in `podman` maps the mounts and runs the Containerfile's
ENTRYPOINT). The merged CSV is compared with one unsharded run's, byte for byte but for the
`time_s` column, which each run measures; the merge itself is byte exact (last test).
"""

import csv
import io
import json
import os
import random
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from fixtures.submissions import LESSONS, RIGHT, answered, edition, solution

from rnn_course.settings import REPO_ROOT
from rnn_course.tools import grading, shards

pytestmark = pytest.mark.long  # many notebooks: .ci/run runs it in its newest job only

DEPLOY = REPO_ROOT / "deploy"
PIPES = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "text": True}
FAKE_PODMAN = r"""#!@PYTHON@
# A stand-in for `podman run` (tests/test_shards.py): maps the -v mounts to the host folders
# and runs the image's ENTRYPOINT with its ENV, both read from deploy/Containerfile.
import json, os, re, sys
text = open("@CONTAINERFILE@").read()
entry = json.loads(re.search(r"^ENTRYPOINT (.*)$", text, re.M)[1])
env = dict(os.environ)
env.update(re.findall(r"(\w+)=(\S+)", re.search(r"^ENV ((?:.*\\\n)*.*)$", text, re.M)[1]))
args, mounts = sys.argv[2:], {}
assert sys.argv[1] == "run", sys.argv
while args[0].startswith("-"):
    flag = args.pop(0)
    if flag in ("-v", "--volume"):
        outside, inside = args.pop(0).split(":")[:2]
        mounts[inside] = outside
    elif flag in ("-e", "--env"):
        key, _, value = args.pop(0).partition("=")
        env[key] = value
    elif flag not in ("--rm", "--read-only"):
        args.pop(0)
assert args.pop(0) == os.environ["EXPECTED_IMAGE"]


def host(text):
    for inside, outside in mounts.items():
        if text == inside or text.startswith(inside + "/"):
            return outside + text[len(inside) :]
    return text


env = {key: host(value) for key, value in env.items()}
command = [sys.executable if entry[0] == "python" else entry[0], *entry[1:]]
command += [host(arg) for arg in args] + json.loads(os.environ["EXTRA_ARGS"])
os.execve(command[0], command, env)
"""


def rows_without_time(path: Path) -> list[list[str]]:
    """The CSV's rows with the measured `time_s` column taken out."""
    table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    column = table[0].index("time_s")
    return [row[:column] + row[column + 1 :] for row in table]


def same_but_time(merged: Path, unsharded: Path) -> None:
    """`merged` is `unsharded`, byte for byte, once the time_s column is out of both."""
    strip = lambda path: "".join(  # noqa: E731
        ",".join(row) + "\n" for row in rows_without_time(path)
    )
    assert strip(merged) == strip(unsharded)
    assert merged.read_bytes().count(b"\n") == unsharded.read_bytes().count(b"\n")


def job_spec() -> tuple[dict, dict]:
    job = next(doc for doc in yaml.safe_load_all((DEPLOY / "grading-job.yaml").read_text()))
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    return job, job["spec"]["template"]["spec"]


def run_all(started: list[subprocess.Popen]) -> None:
    """Wait for every process (started at once, as a Job's pods or an array's tasks run)."""
    for process in started:
        _, stderr = process.communicate()
        assert process.returncode == 0, stderr[-2000:]


def run_kubernetes(folders: dict[str, Path], count: int, extra: list[str]) -> None:
    """Run every pod of the Indexed Job, one process each, all at once, as the Job file says."""
    job, pod = job_spec()
    (container,) = pod["containers"]
    env_of_file = {item["name"]: item["value"] for item in container["env"]}
    assert env_of_file["SHARDS"] == str(job["spec"]["completions"]), "SHARDS must be completions"
    mounts = {m["mountPath"]: folders[m["name"]] for m in container["volumeMounts"]}
    image_env = {"RNN_COURSE_DATA": "/data"}  # the Containerfile's ENV
    command = [*container["command"], *container["args"]]
    assert command[:2] == ["sh", "-c"] and len(command) == 3
    script = command[2]
    inside = "|".join(map(re.escape, mounts))
    script = re.sub(rf"(?<![\w/])({inside})(?=/|\s|$)", lambda m: str(mounts[m[1]]), script)
    script = script.replace("python -m rnn_course grade", f"{sys.executable} -m rnn_course grade")
    script = script.replace(" --shard", f" {shlex.join(extra)} --shard")
    started = []
    for index in range(count):
        env = {
            **os.environ,
            **env_of_file,
            "SHARDS": str(count),
            "JOB_COMPLETION_INDEX": str(index),
        }
        env["RNN_COURSE_DATA"] = str(mounts[image_env["RNN_COURSE_DATA"]])
        started.append(subprocess.Popen(["sh", "-c", script], env=env, **PIPES))
    run_all(started)


def run_slurm(folders: dict[str, Path], count: int, extra: list[str], tmp: Path) -> None:
    """Run every task of the Slurm array, one process each, all at once, through the script."""
    script = DEPLOY / "grade-slurm.sh"
    text = script.read_text()
    cpus = re.search(r"^#SBATCH --cpus-per-task=(\d+)$", text, re.M)[1]
    image = re.search(r"image=\$\{IMAGE:-([^}]+)\}", text)[1]
    podman = tmp / "podman"
    fake = FAKE_PODMAN.replace("@PYTHON@", sys.executable)
    podman.write_text(fake.replace("@CONTAINERFILE@", str(DEPLOY / "Containerfile")))
    podman.chmod(podman.stat().st_mode | stat.S_IXUSR)
    started = []
    for task in range(1, count + 1):
        env = {
            **os.environ,
            "SLURM_ARRAY_TASK_ID": str(task),
            "SLURM_ARRAY_TASK_MIN": "1",
            "SLURM_ARRAY_TASK_COUNT": str(count),
            "SLURM_CPUS_PER_TASK": cpus,
            "ENGINE": str(podman),
            "SUBMISSIONS": str(folders["submissions"]),
            "RESULTS": str(folders["results"]),
            "DATA": str(folders["data"]),
            "EXPECTED_IMAGE": image,
            "EXTRA_ARGS": json.dumps(extra),
        }
        started.append(subprocess.Popen(["bash", str(script)], env=env, **PIPES))
    run_all(started)


def grade_unsharded(submissions: Path, out: Path, extra: list[str]) -> None:
    command = [sys.executable, "-m", "rnn_course", "grade", str(submissions), "--out", str(out)]
    done = subprocess.run([*command, "--jobs", "2", *extra], capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr[-2000:]


def merge(inputs: list[Path], out: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "rnn_course", "grade-merge", *map(str, inputs)]
    return subprocess.run([*command, "--out", str(out)], capture_output=True, text=True)


def folders_for(tmp: Path, submissions: Path, name: str) -> dict[str, Path]:
    folders = {"submissions": submissions, "results": tmp / name, "data": tmp / "data"}
    folders["tmp"] = tmp / "pod-tmp"
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    return folders


# ----------------------------------------------------------------------------- the share


def test_a_shard_is_parsed_or_refused():
    assert shards.parse_shard("2/5") == (2, 5)
    for bad in ("0/5", "6/5", "2", "a/b", "-1/3"):
        with pytest.raises(ValueError, match="expected I/N with 1 <= I <= N"):
            shards.parse_shard(bad)


def test_shards_cover_the_batch_once_stable_under_reordering_and_even_by_lesson():
    found = [Path(f"subs/s{n:03}/{lesson}.ipynb") for n in range(60) for lesson in ("01_a", "05_b")]
    for count in (1, 2, 3, 5, 7):
        parts = [shards.select(found, index, count) for index in range(1, count + 1)]
        assert sorted(p for part in parts for p in part) == sorted(found)
        shuffled = random.Random(count).sample(found, len(found))
        assert [set(shards.select(shuffled, i, count)) for i in range(1, count + 1)] == [
            set(part) for part in parts
        ]
        for part in parts:
            assert part == [p for p in found if p in part], "a shard keeps the batch's order"
            for lesson in ("01_a", "05_b"):
                assert abs(sum(p.stem == lesson for p in part) - 60 / count) < 1


# ----------------------------------------------------------------------------- real shards


@pytest.fixture(scope="module")
def real_batch(tmp_path_factory) -> tuple[Path, Path]:
    """Three submissions of the fixture lesson, graded once without shards."""
    tmp = tmp_path_factory.mktemp("real")
    submissions = tmp / "submissions"
    for who, notebook in (
        ("alice", solution()),
        ("bob", answered(linear_forward=RIGHT["linear_forward"])),
        ("carol", edition()),
    ):
        (submissions / who).mkdir(parents=True)
        nbformat.write(notebook, submissions / who / "01_tiny.ipynb")
    out = tmp / "unsharded" / "grades.csv"
    grade_unsharded(submissions, out, ["--lessons", str(LESSONS)])
    return submissions, out


def test_two_kubernetes_pods_grade_what_one_run_grades(real_batch, tmp_path):
    submissions, unsharded = real_batch
    folders = folders_for(tmp_path, submissions, "results")
    run_kubernetes(folders, 2, ["--lessons", str(LESSONS)])
    produced = sorted(p.name for p in folders["results"].iterdir())
    assert produced == sorted(
        f"grades.shard-{i}-of-2{suffix}"
        for i in (1, 2)
        for suffix in (".csv", ".json", ".manifest.json")
    )
    done = merge([folders["results"]], tmp_path / "grades.csv")
    assert done.returncode == 0, done.stderr
    same_but_time(tmp_path / "grades.csv", unsharded)
    marks = {row[0].split("/")[-2]: row[-4] for row in rows_without_time(unsharded)[1:]}
    assert marks == {"alice": "3", "bob": "1", "carol": "0"}


def test_a_merge_is_byte_exact(real_batch, tmp_path):
    """Split one run's rows into the shards a `--shard` run writes: the merge is that run's CSV."""
    submissions, unsharded = real_batch
    rows = json.loads(unsharded.with_suffix(".json").read_text())
    found = grading.submissions([submissions])
    assert [row["submission"] for row in rows] == list(map(str, found))
    version = shards.course_version(LESSONS, 120, 8)
    for count in (2, 3, 5):
        folder = tmp_path / f"by-{count}"
        folder.mkdir()
        out = folder / "grades.csv"
        for index in range(1, count + 1):
            mine = set(map(str, shards.select(found, index, count)))
            share = [row for row in rows if row["submission"] in mine]
            grading.write_results(share, shards.shard_path(out, index, count))
            shards.write_manifest(found, index, count, share, out, version)
        merged = shards.merge([folder], tmp_path / f"merged-{count}.csv")
        assert merged == rows
        assert (tmp_path / f"merged-{count}.csv").read_bytes() == unsharded.read_bytes()


# ----------------------------------------------------------------------------- many shards


@pytest.fixture(scope="module")
def junk_batch(tmp_path_factory) -> tuple[Path, Path]:
    """Twelve files no lesson matches: error rows at once, no kernel (cheap to shard 5 ways)."""
    tmp = tmp_path_factory.mktemp("junk")
    submissions = tmp / "submissions"
    for n in range(12):
        (submissions / f"student{n:02}").mkdir(parents=True)
        (submissions / f"student{n:02}" / f"homework-{n % 3}.ipynb").write_text("{}")
    out = tmp / "unsharded" / "grades.csv"
    grade_unsharded(submissions, out, [])
    return submissions, out


@pytest.mark.parametrize("count, recipe", [(3, "slurm"), (5, "kubernetes")])
def test_every_shard_in_its_own_process_merges_to_the_unsharded_table(
    junk_batch, tmp_path, count, recipe
):
    submissions, unsharded = junk_batch
    folders = folders_for(tmp_path, submissions, "results")
    if recipe == "slurm":
        run_slurm(folders, count, [], tmp_path)
    else:
        run_kubernetes(folders, count, [])
    done = merge([folders["results"]], tmp_path / "grades.csv")
    assert done.returncode == 0, done.stderr
    same_but_time(tmp_path / "grades.csv", unsharded)
    assert len(rows_without_time(unsharded)) == 13


def test_a_merge_refuses_a_missing_repeated_or_foreign_shard(real_batch, tmp_path):
    submissions, unsharded = real_batch
    rows = json.loads(unsharded.with_suffix(".json").read_text())
    found = grading.submissions([submissions])
    results = tmp_path / "results"
    results.mkdir()
    out = results / "grades.csv"
    for index in (1, 2, 3):
        share = [row for row in rows if Path(row["submission"]) in shards.select(found, index, 3)]
        grading.write_results(share, shards.shard_path(out, index, 3))
        shards.write_manifest(found, index, 3, share, out, shards.course_version(LESSONS, 120, 8))
    manifests = sorted(results.glob("*.manifest.json"))

    done = merge(manifests[:2], tmp_path / "out.csv")
    assert done.returncode == 2 and "missing shard(s) 3/3" in done.stderr

    copy = tmp_path / "copy"
    copy.mkdir()
    for path in results.glob("grades.shard-2-of-3*"):
        (copy / path.name).write_bytes(path.read_bytes())
    done = merge([results, copy / "grades.shard-2-of-3.csv"], tmp_path / "out.csv")
    assert done.returncode == 2 and "shard 2/3 given twice" in done.stderr

    manifest = json.loads(manifests[1].read_text())
    manifest["version"]["lessons"] = "0" * 64
    manifests[1].write_text(json.dumps(manifest))
    done = merge([results], tmp_path / "out.csv")
    assert done.returncode == 2 and "another version of the course (lessons differ)" in done.stderr

    manifest["version"] = json.loads(manifests[0].read_text())["version"]
    manifest["batch"]["count"] += 1
    manifests[1].write_text(json.dumps(manifest))
    done = merge([results], tmp_path / "out.csv")
    assert done.returncode == 2 and "another batch of submissions" in done.stderr
    assert not (tmp_path / "out.csv").exists(), "a refused merge writes nothing"
