"""nbgrader configuration for the gradkit course (read by every `nbgrader` command run here).

Source notebooks live in `solutions/`, released ones in `assignments/` (both generated: see
graders/course/authoring.py and docs/course.md). The settings below answer what was measured of
nbgrader 0.9.6; tests/test_course.py checks that each still holds.
"""

from pathlib import Path

from graders.course.nbgrader_setup import configure

c = get_config()  # noqa: F821 - provided by traitlets when it runs this file
configure(c)

# The course is this repository, wherever nbgrader is started from inside it.
c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
