"""The one rule for a graded file's probe seed, and the id of the grader that decides a grade.

Seed = HMAC-SHA256(secret, "<content hash>:<grader id>"), first 6 bytes. The secret is the
course's (a batch's gradebook) or the autograder zip's; students never see it, so they cannot
predict their probe points, while the same file graded again by the same grader gets the same
points and so the same score. A changed grader id (version; assignment, with its config's
declared ops and named clusters; limits) draws new ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict

from graders.model import Limits
from graders.spec import assignments
from graders.spec.optable import Assignment
from kit import __version__


def grader_id(assignment: Assignment, limits: Limits, isolation: str) -> str:
    """Version of everything that decides a grade: the code, the assignment, the limits, the
    answer key (a digest of every derived formula) and the containment a child gets. A change in
    any of them regrades the class on rerun: a grade made under another oracle or a weaker
    sandbox is never kept as "unchanged"."""
    from graders.judge import oracle

    spec = json.dumps([assignments.to_data(assignment), asdict(limits),
                       oracle.fingerprint(assignment), isolation], sort_keys=True)
    return f"{__version__}+{hashlib.sha256(spec.encode()).hexdigest()[:12]}"


def seed(secret: bytes, digest: str, grader: str) -> int:
    mac = hmac.new(secret, f"{digest}:{grader}".encode(), hashlib.sha256)
    return int.from_bytes(mac.digest()[:6], "big")
