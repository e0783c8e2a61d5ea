"""Vendored browser files are exactly the ones their manifest lists, byte for byte, with their licences beside them."""
import hashlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = [ROOT / "web" / "static" / "vendor", ROOT / "tests" / "browser" / "vendor"]
URL = re.compile(r"""url\(\s*['"]?([^'")]+)""")


def manifest(folder: Path) -> list[dict]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"}


@pytest.fixture(params=FOLDERS, ids=lambda folder: folder.relative_to(ROOT).as_posix())
def folder(request) -> Path:
    return request.param


def test_every_listed_file_is_there_with_its_checksum(folder):
    def intact(entry: dict) -> bool:
        path = folder / entry["file"]
        return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    assert [entry["file"] for entry in manifest(folder) if not intact(entry)] == []


def test_every_vendored_file_is_listed(folder):
    assert files_in(folder) - {entry["file"] for entry in manifest(folder)} == set()


def test_every_entry_names_its_package_version_and_licence(folder):
    keys = {"file", "package", "version", "licence", "sha256"}
    assert [entry for entry in manifest(folder) if set(entry) != keys or not all(entry.values())] == []


def licence_beside(folder: Path, file: str) -> bool:
    """A LICENSE in the file's own folder or one above it, inside the vendor folder."""
    path = folder / file
    return any((parent / "LICENSE").is_file() for parent in path.parents if parent.is_relative_to(folder))


def test_each_package_keeps_its_licence_text_beside_its_files(folder):
    assert [entry["file"] for entry in manifest(folder) if not licence_beside(folder, entry["file"])] == []


def test_every_relative_url_in_a_vendored_stylesheet_names_a_vendored_file(folder):
    missing = []
    for css in folder.rglob("*.css"):
        for url in URL.findall(css.read_text(encoding="utf-8")):
            if url.startswith(("data:", "#")):
                continue
            target = (css.parent / re.split(r"[?#]", url)[0]).resolve()
            if not target.is_file():
                missing.append(f"{css.relative_to(folder)}: {url}")
    assert missing == []
