"""A non-editable install (`pip install git+...`, as the Colab setup cell does) gets every file.

The wheel is built from a copy of the package, so that the build leaves nothing in the checkout.
"""

import shutil
import subprocess
import sys
import zipfile

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from rnn_course.settings import PACKAGE_DIR, REPO_ROOT


def package_files() -> set[str]:
    """Every file of the package in the checkout, as its path inside a wheel."""
    return {
        path.relative_to(REPO_ROOT).as_posix()
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_holds_every_file_of_the_package(tmp_path):
    source, dist = tmp_path / "source", tmp_path / "dist"
    source.mkdir()
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    licences = [p for g in pyproject["project"].get("license-files", []) for p in REPO_ROOT.glob(g)]
    for path in [REPO_ROOT / "pyproject.toml", REPO_ROOT / "README.md", *licences]:
        (source / path.relative_to(REPO_ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, source / path.relative_to(REPO_ROOT))
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PACKAGE_DIR, source / PACKAGE_DIR.name, ignore=ignore)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(dist), str(source)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    expected = package_files()
    assert {"rnn_course/check/__init__.py", "rnn_course/tools/__init__.py"} <= expected
    assert {"rnn_course/airline_passengers.csv"} <= expected
    assert sorted(expected - shipped) == [], "files of the package missing from the wheel"
