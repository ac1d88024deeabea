"""Where the packages an assignment allows (`Assignment.packages`, numpy by default) live in the
grader's own environment, so the child can be shown exactly those folders and nothing beside them.

Real lecture code computes with numpy; a sandbox without it costs correct code its points. The
child runs `python -I -S`, so no site-packages is on its path: each allowed top-level package is
found here, in the trusted parent, with `importlib.util.find_spec` (which locates a top-level
package without running it: nothing a student chose is imported or even named), and the child
is given its real folder (or module file) plus the vendored shared-library folders its
extension modules load (`numpy.libs`). bubblewrap binds those read-only, Landlock reads them,
the guard allows their imports and reads, and the harness maps the names to the folders with a
finder of its own: every other installed package stays out of reach.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from functools import cache

# Names that are never a package to allow: the grader itself (its judge and answer key), the
# course library (allowed per op through `OpSpec.library`), and the standard library (always
# importable, and its refused modules, ctypes among them, stay refused).
NOT_PACKAGES = ("graders", "kit")


class PackageError(ValueError):
    """An allowed package that cannot be given to the child: the message names it."""


@dataclass(frozen=True)
class Package:
    """One allowed top-level package, as the child is to see it."""

    name: str
    origin: str  # its real folder (a package) or file (a single-file module)
    libs: tuple[str, ...] = ()  # vendored shared libraries its extensions load: numpy.libs

    @property
    def paths(self) -> tuple[str, ...]:
        """Everything of it the child must be able to read."""
        return (self.origin, *self.libs)


def refusal(name: object) -> str | None:
    """Why `name` cannot be an allowed package, or None: the config's one-line error."""
    if not isinstance(name, str) or not name.isidentifier():
        return f"{name!r} is not a top-level module name"
    if name in NOT_PACKAGES:
        return f"{name!r} is the grader's own code, never given to student code"
    if name in sys.stdlib_module_names:
        return f"{name!r} is in the standard library (allowed already, or refused for good)"
    return None


@cache
def locate(name: str) -> Package:
    """The installed top-level package `name` in the grader's environment, or PackageError."""
    problem = refusal(name)
    if problem:
        raise PackageError(problem)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as error:
        raise PackageError(f"{name!r} cannot be found: {error}") from None
    if spec is None or not spec.has_location or not spec.origin:
        raise PackageError(f"{name!r} is not installed in the grader's environment "
                           f"({sys.executable})")
    if spec.submodule_search_locations:
        folders = list(spec.submodule_search_locations)
        if len(folders) != 1 or os.path.basename(spec.origin) != "__init__.py":
            raise PackageError(f"{name!r} is a namespace package: give the child one folder")
        origin = os.path.realpath(folders[0])
    else:
        origin = os.path.realpath(spec.origin)
    return Package(name, origin, _vendored_libs(name, origin))


def _vendored_libs(name: str, origin: str) -> tuple[str, ...]:
    """Folders of shared libraries that wheel repair tools put beside a package (auditwheel:
    `<dist>.libs` next to it; `.libs` inside it is covered by the package's own folder)."""
    parent = os.path.dirname(origin)
    own = os.path.join(parent, f"{name}.libs")
    if os.path.isdir(own):  # the usual case (numpy.libs): no need to read every installed dist
        return (os.path.realpath(own),)
    from importlib.metadata import packages_distributions

    dists = packages_distributions().get(name, ())  # PIL comes from pillow
    found = {os.path.join(parent, f"{spelling}.libs")
             for dist in dists for spelling in (dist, dist.lower())}
    return tuple(sorted(os.path.realpath(p) for p in found if os.path.isdir(p)))


def resolve(names: tuple[str, ...], *, strict: bool = False) -> tuple[Package, ...]:
    """The packages the child gets. One not installed is left out (the default numpy on a
    grader without it: the import fails in the child, as before) unless `strict`."""
    found = []
    for name in dict.fromkeys(names):
        try:
            found.append(locate(name))
        except PackageError:
            if strict:
                raise
    return tuple(found)
