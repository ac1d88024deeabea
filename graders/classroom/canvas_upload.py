"""Post a batch's grades straight into a Canvas assignment, through `canvasapi`.

The same grades as the Canvas import file (`export.py`), sent with one bulk update: Canvas's
"update grades" endpoint takes every student's posted grade at once and works through them as
a background job, which this module waits for, so "uploaded" means Canvas says it is done.
Students are matched by the roster's `canvas_id` (Canvas's user id). A roster student with no
submission is not posted (their Canvas grade is left as it is) and is listed; a student
without a `canvas_id` is listed too. Nothing is posted when the assignment cannot be found or
the token is refused, and every such failure is one line naming what to fix.

With comments, each posted student's feedback (their Markdown page, the student's view the
batch wrote beside their results) goes with their grade as a submission comment, in the same
bulk update (Canvas's `grade_data[USER][text_comment]`), so a grade and the words that explain
it arrive together or not at all. Canvas adds a comment each time one is posted: posting again
repeats it.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from graders.classroom.export import latest, posted_grade, roster_ids
from graders.classroom.records import RosterEntry, Row

TOKEN_VARIABLE = "CANVAS_API_TOKEN"
CANVAS_USER = re.compile(r"\d{1,20}|sis_user_id:[\w.@+-]{1,100}")
CHUNK = 500  # grades per bulk update: a request Canvas takes for any class size
REQUEST_SECONDS = 60.0  # one HTTP request; a site that accepts and never answers is an error
DONE_STATES = ("completed", "failed")
COMMENT_CHARS = 60_000  # a comment longer than this is cut, saying so (Canvas's text limit)


class UploadError(RuntimeError):
    """The upload could not be made or Canvas refused it; the message says what to fix."""


@dataclass
class Upload:
    posted: dict[str, str] = field(default_factory=dict)  # Canvas user id -> posted grade
    not_posted: list[str] = field(default_factory=list)  # roster students with no submission
    no_canvas_id: list[str] = field(default_factory=list)  # graded, but no canvas_id to post to
    assignment_name: str = ""
    points_possible: float | None = None
    state: str = ""
    comments: dict[str, str] = field(default_factory=dict)  # Canvas user id -> comment text
    no_comment: list[str] = field(default_factory=list)  # posted without one: no page kept


def comment_text(feedback: str) -> str:
    """A feedback page as a submission comment, cut (saying so) where Canvas would refuse it."""
    if len(feedback) <= COMMENT_CHARS:
        return feedback
    return feedback[:COMMENT_CHARS].rsplit("\n", 1)[0] + \
        "\n\n(cut here: your instructor has the whole feedback page)"


def grade_data(rows: Iterable[Row], roster: list[RosterEntry],
               assignment: str | None = None,
               feedback: Callable[[Row], str | None] | None = None) -> Upload:
    """What would be posted: Canvas user id -> grade (and, with `feedback`, the comment: the
    text it gives for the student's row), and who cannot be posted and why."""
    graded = latest(rows, assignment)
    plan = Upload()
    owners: dict[str, str] = {}
    for line, (entry, student) in enumerate(zip(roster, roster_ids(roster), strict=True),
                                            start=2):
        canvas_id = entry.canvas_id
        if canvas_id and not CANVAS_USER.fullmatch(canvas_id):
            raise UploadError(f"roster line {line}: canvas_id {canvas_id[:40]!r} is not a "
                              "Canvas user id (digits, or sis_user_id:...)")
        if canvas_id in owners:
            raise UploadError(f"roster line {line}: canvas_id {canvas_id} is also "
                              f"{owners[canvas_id]}'s; each student needs their own")
        if canvas_id:
            owners[canvas_id] = student
        grade = posted_grade(graded.get(student))
        if grade == "":
            plan.not_posted.append(student)
        elif not canvas_id:
            plan.no_canvas_id.append(student)
        else:
            plan.posted[canvas_id] = grade
            text = feedback(graded[student]) if feedback else None
            if text:
                plan.comments[canvas_id] = comment_text(text)
            elif feedback:
                plan.no_comment.append(student)
    return plan


def _canvas_error(error: Exception, what: str) -> UploadError:
    from canvasapi import exceptions

    reasons = {exceptions.RateLimitExceeded: "too many requests for now; try again later",
               exceptions.InvalidAccessToken: f"the token in {TOKEN_VARIABLE} was refused",
               exceptions.Unauthorized: "the token may not change grades in this course",
               exceptions.Forbidden: "the token may not change grades in this course",
               exceptions.ResourceDoesNotExist: f"{what} does not exist"}
    for kind, reason in reasons.items():
        if isinstance(error, kind):
            return UploadError(f"Canvas: {reason}")
    first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return UploadError(f"Canvas refused {what}: {first}")


def _limit_each_request(site) -> None:
    """canvasapi sends requests with no timeout; give its session's requests one."""
    import requests.adapters

    class Limited(requests.adapters.HTTPAdapter):
        def send(self, request, **kwargs):
            kwargs["timeout"] = kwargs.get("timeout") or REQUEST_SECONDS
            return super().send(request, **kwargs)

    session = getattr(getattr(site, "_Canvas__requester", None), "_session", None)
    if session is not None:  # canvasapi's own, private: without it, requests are unlimited
        for scheme in ("https://", "http://"):
            session.mount(scheme, Limited())


def upload(plan: Upload, *, url: str, token: str, course: int, assignment: int,
           timeout: float = 120.0, sleep: Callable[[float], None] = time.sleep) -> Upload:
    """Post `plan.posted` to the assignment and wait until Canvas has applied it."""
    try:
        from canvasapi import Canvas
        from canvasapi.exceptions import CanvasException
    except ImportError:
        raise UploadError("the Canvas upload needs canvasapi: pip install 'gradkit[lms]'") \
            from None
    import requests

    if not token:
        raise UploadError(f"no Canvas token: set {TOKEN_VARIABLE} (Account > Settings > "
                          "New Access Token)")
    if "/api/v1" in url:
        raise UploadError(f"--canvas-url {url}: give the site's address, without /api/v1")
    what = f"course {course}, assignment {assignment}"
    try:
        with warnings.catch_warnings():  # canvasapi's advice on http:// URLs; a choice here
            warnings.simplefilter("ignore", UserWarning)
            site = Canvas(url.rstrip("/"), token)
        _limit_each_request(site)
        target = site.get_course(course).get_assignment(assignment)
        plan.assignment_name = getattr(target, "name", "")
        plan.points_possible = getattr(target, "points_possible", None)
        if not plan.posted:
            plan.state = "nothing to post"
            return plan
        users = list(plan.posted)
        for start in range(0, len(users), CHUNK):
            chunk = users[start:start + CHUNK]
            progress = target.submissions_bulk_update(
                grade_data={user: {"posted_grade": plan.posted[user],
                                   **({"text_comment": plan.comments[user]}
                                      if user in plan.comments else {})}
                            for user in chunk})
            _wait(progress, timeout, sleep, done=start)
            plan.state = progress.workflow_state
    except CanvasException as error:
        raise _canvas_error(error, what) from None
    except requests.RequestException as error:
        raise UploadError(f"cannot reach Canvas at {url}: {type(error).__name__}") from None
    return plan


def _wait(progress, timeout: float, sleep: Callable[[float], None], done: int) -> None:
    """Until Canvas's job for one bulk update has finished; refuses a failed one."""
    deadline, pause = time.monotonic() + timeout, 0.5
    while getattr(progress, "workflow_state", "") not in DONE_STATES:
        if time.monotonic() > deadline:
            raise UploadError(f"Canvas had not finished the upload after {timeout:g} s; "
                              "check the assignment's grades in Canvas")
        sleep(pause)
        pause = min(pause * 2, 5.0)
        progress.query()
    if progress.workflow_state == "failed":
        message = getattr(progress, "message", None) or "no reason given"
        posted = f" ({done} grades before it were posted)" if done else ""
        raise UploadError(f"Canvas could not apply the grades: {message}{posted}")
