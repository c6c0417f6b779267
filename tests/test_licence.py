"""LICENSE, the text licence, CITATION.cff, the README and pyproject.toml agree with each other."""

import re
import sys

from rnn_course.settings import REPO_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest brings tomli on Python 3.10
    import tomli as tomllib

PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
CITATION = (REPO_ROOT / "CITATION.cff").read_text(encoding="utf-8")
# Each licence the project names (SPDX id), its file, the line it starts with and its name.
LICENCES = {
    "MIT": ("LICENSE", "MIT License", "MIT licence"),
    "CC-BY-4.0": (
        "LICENSES/CC-BY-4.0.txt",
        "Creative Commons Attribution 4.0 International",
        "CC BY 4.0",
    ),
}


def _cff(key: str) -> str:
    match = re.search(rf'^{key}: "?([^"\n]*)"?$', CITATION, re.M)
    assert match, f"CITATION.cff has no top-level '{key}:'"
    return match.group(1)


def _section(title: str) -> str:
    match = re.search(rf"^## {title}\n(.*?)(?=^## )", README, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def test_pyproject_names_every_licence_and_ships_its_file():
    assert PROJECT["license"].split(" AND ") == list(LICENCES)
    shipped = {
        str(path.relative_to(REPO_ROOT))
        for pattern in PROJECT["license-files"]
        for path in REPO_ROOT.glob(pattern)
    }
    assert shipped == {file for file, _, _ in LICENCES.values()}


def test_licence_files_hold_the_licences():
    for file, first_line, _ in LICENCES.values():
        text = (REPO_ROOT / file).read_text(encoding="utf-8")
        assert text.splitlines()[0] == first_line, file
    assert "Permission is hereby granted, free of charge" in (REPO_ROOT / "LICENSE").read_text()
    legal_code = (REPO_ROOT / "LICENSES/CC-BY-4.0.txt").read_text(encoding="utf-8")
    for section in range(1, 9):
        assert f"Section {section} –" in legal_code, f"CC BY 4.0: section {section} is missing"


def test_citation_agrees_with_pyproject_and_readme():
    assert _cff("cff-version") == "1.2.0"
    assert _cff("title") == README.splitlines()[0].removeprefix("# ")
    assert _cff("version") == PROJECT["version"]
    assert _cff("repository-code") == PROJECT["urls"]["Repository"]
    listed = re.search(r"^license:\n((?:  - .*\n)+)", CITATION, re.M)
    assert listed, "CITATION.cff lists no licence"
    assert re.findall(r"  - (\S+)", listed.group(1)) == list(LICENCES)


def test_readme_names_the_licences_the_data_and_the_citation():
    licence = _section("Licence")
    for file, _, name in LICENCES.values():
        assert f"]({file})" in licence, f"the README's Licence section does not link {file}"
        assert name in licence, f"the README's Licence section does not name {name}"
    credits = _section("Data credits")
    for data, terms in [
        ("MNIST", "CC BY-SA 3.0"),
        ("Airline passengers", "public domain"),
        ("Tiny Shakespeare", "public-domain"),
    ]:
        assert re.search(rf"\*\*{data}\*\*[^\n]*(\n  [^\n]*)*{terms}", credits), (data, terms)
    citing = _section("Citing the course")
    assert "(CITATION.cff)" in citing
    assert f"version {PROJECT['version']}" in citing
