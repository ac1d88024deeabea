"""gradkit's own wheel, from however it is installed: what an autograder zip carries.

Gradescope must install exactly the grader the instructor tested, so `gradescope build` puts
this grader's wheel in the zip rather than a version name the package index may not have. From
a regular install (a wheel, an sdist, a course repository's tagged release) the wheel is packed
again from the installed files and their metadata; from an editable checkout it is built from
the source tree with pip, and kept in the user's cache under a hash of what goes into it, so
building the next autograder from an unchanged checkout does not run pip again (3 CPU-s a
build). Either way the result installs with `pip install gradkit-*.whl`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from graders.atomic import copy_atomic

DISTRIBUTION = "gradkit"
PACKAGES = ("kit", "graders")
# Besides PACKAGES, the files of a checkout a wheel is built from (pyproject's metadata, its
# readme and licence): a change to any of them, or to any file in PACKAGES, is a new wheel.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in", "README.md",
                "LICENSE", "LICENSE.txt", "LICENSE.md")


class WheelError(Exception):
    """The running gradkit cannot be turned into a wheel (say why, in one line)."""


def own_wheel(folder: Path) -> Path:
    """Write gradkit's wheel into `folder` and return its path."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise WheelError("gradkit is not installed as a package (pip install it, or "
                         "pip install -e . in a checkout)") from None
    source = _editable_source(dist) or _egg_info_source(dist)
    if source is not None:
        return _build_from_source(source, folder)
    return _repack(dist, folder)


def _editable_source(dist: metadata.Distribution) -> Path | None:
    """The checkout an editable install points at (PEP 610's direct_url.json), if it is one."""
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    info = json.loads(text)
    if not info.get("dir_info", {}).get("editable") or not info["url"].startswith("file://"):
        return None
    return Path(info["url"].removeprefix("file://"))


def _egg_info_source(dist: metadata.Distribution) -> Path | None:
    """The checkout of a setuptools `gradkit.egg-info` (what an editable build leaves in the
    source tree, and what Python finds first when that tree is the current folder): it has
    no METADATA to repack, so the wheel is built from the tree beside it."""
    if dist.read_text("METADATA") is not None or dist.read_text("PKG-INFO") is None:
        return None
    root = Path(str(dist.locate_file("")))
    return root if (root / "pyproject.toml").is_file() else None


def _build_from_source(source: Path, folder: Path) -> Path:
    if not (source / "pyproject.toml").is_file():
        raise WheelError(f"the editable install points at {source}, which has no pyproject.toml")
    cached = _cache_folder(source)
    kept = sorted(cached.glob(f"{DISTRIBUTION}-*.whl")) if cached else []
    if len(kept) == 1:
        target = folder / kept[0].name
        copy_atomic(kept[0], target)
        return target
    target = _pip_wheel(source, folder)
    if cached:
        try:
            cached.mkdir(parents=True, exist_ok=True)
            copy_atomic(target, cached / target.name)
        except OSError:  # a read-only or full cache costs the next build its time, no more
            pass
    return target


def source_digest(source: Path) -> str:
    """A hash of every file a wheel of `source` is built from (BUILD_INPUTS and the packages'
    files, bytecode left out), by path and content: equal digests, equal wheels."""
    digest = hashlib.sha256()
    files = [source / name for name in BUILD_INPUTS if (source / name).is_file()]
    for package in PACKAGES:
        files += [path for path in (source / package).rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts
                  and path.suffix != ".pyc"]
    for path in sorted(files):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _cache_folder(source: Path) -> Path | None:
    """Where the wheel of `source` as it is now is kept (None: no cache to use)."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(home):
        return None
    try:
        return Path(home) / "gradkit" / "wheels" / source_digest(source)[:32]
    except OSError:
        return None


def _pip_wheel(source: Path, folder: Path) -> Path:
    with tempfile.TemporaryDirectory() as scratch:
        for isolation in (["--no-build-isolation"], []):  # offline first, then the registry
            done = subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-q",
                 "-w", scratch, str(source)], capture_output=True, text=True)
            if done.returncode == 0:
                break
        wheels = list(Path(scratch).glob(f"{DISTRIBUTION}-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            detail = (done.stderr.strip().splitlines() or ["no wheel was made"])[-1]
            raise WheelError(f"could not build a wheel from {source}: {detail}")
        target = folder / wheels[0].name
        target.write_bytes(wheels[0].read_bytes())
    return target


def _repack(dist: metadata.Distribution, folder: Path) -> Path:
    """A wheel of the installed files: the packages' sources (no bytecode) and the metadata,
    as the wheel format (PEP 427) lays them out; `wheel`'s WheelFile writes the RECORD."""
    version = dist.version
    info_dir = f"{DISTRIBUTION}-{version}.dist-info"
    entries: dict[str, bytes] = {}
    for file in dist.files or ():
        parts = Path(str(file)).parts
        if not parts or "__pycache__" in parts or str(file).endswith(".pyc"):
            continue
        if parts[0] in PACKAGES:
            entries[str(file)] = Path(str(file.locate())).read_bytes()
    if not any(name.startswith("graders/") for name in entries):
        raise WheelError("the installed gradkit lists no files of its own (a broken install?)")
    if dist.read_text("METADATA") is None:
        raise WheelError("the installed gradkit has no METADATA (pip could not install a "
                         "wheel made of it)")
    for name in ("METADATA", "entry_points.txt", "top_level.txt"):
        text = dist.read_text(name)
        if text is not None:
            entries[f"{info_dir}/{name}"] = text.encode()
    entries[f"{info_dir}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: gradkit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    from wheel.wheelfile import WheelFile  # writes RECORD (hashes and sizes) as it closes

    target = folder / f"{DISTRIBUTION}-{version}-py3-none-any.whl"
    with WheelFile(target, "w") as wheel:
        for name, data in sorted(entries.items()):
            wheel.writestr(name, data)
    return target
