"""The supported range has one floor per package, and every file that states it agrees.

requirements.txt sets each floor (`name>=X.Y`); pyproject.toml repeats the package's own
dependencies; constraints/oldest.txt, which `.ci/run oldest` installs, pins each floor
(`name==X.Y.*`); settings.TORCH_FLOOR is what the setup cell warns below; the README states it.
"""

import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from rnn_course import settings

ROOT = settings.REPO_ROOT


def requirement_lines(name: str) -> list[str]:
    """The requirement lines of a file, without comments, options and blank lines."""
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    stripped = (line.split("#")[0].strip() for line in lines)
    return [line for line in stripped if line and not line.startswith("-")]


def parse(lines: list[str], operator: str, suffix: str = "") -> dict[str, str]:
    """{name: version} from lines `name<operator>version<suffix>`; any other line fails."""
    pattern = re.compile(
        rf"([A-Za-z0-9_.-]+)\s*{re.escape(operator)}\s*([0-9.]+){re.escape(suffix)}"
    )
    parsed = {}
    for line in lines:
        match = pattern.fullmatch(line)
        assert match, f"{line!r} is not of the form name{operator}version{suffix}"
        parsed[match[1].lower()] = match[2]
    return parsed


def floors() -> dict[str, str]:
    """{name: floor} from requirements.txt."""
    return parse(requirement_lines("requirements.txt"), ">=")


def test_every_requirement_has_a_floor():
    assert {"torch", "torchvision", "numpy"} <= set(floors())


def test_pyproject_states_the_same_floors():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies = parse(project["dependencies"], ">=")
    assert dependencies == {name: floors().get(name) for name in dependencies}


def test_the_oldest_constraints_pin_every_floor():
    assert parse(requirement_lines("constraints/oldest.txt"), "==", ".*") == floors()


def test_the_setup_cell_warns_below_the_same_torch_floor():
    assert settings.TORCH_FLOOR == floors()["torch"]


def test_the_readme_states_the_range():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    python = project["requires-python"].removeprefix(">=")
    floor = floors()
    for stated in (f"Python {python}", f"torch {floor['torch']}", f"numpy {floor['numpy']}"):
        assert stated in readme, f"the README does not say {stated!r}"
