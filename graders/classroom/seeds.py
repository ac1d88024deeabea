"""The one rule for a graded file's probe seed, and the id of the grader that decides a grade.

Seed = HMAC-SHA256(secret, "<content hash>:<grader id>"), first 6 bytes. The secret is the
course's (a batch's gradebook) or the autograder zip's; students never see it, so they cannot
predict their probe points, while the same file graded again by the same grader gets the same
points and so the same score. A changed grader id (version; assignment, with its config's
declared ops; limits) draws new ones. Named clusters are the exception: they change what a
student reads, never a point, so they are a suffix of the id (`~` and a digest: a rerun gives
every member the message) that the seed leaves out (naming a cluster moves no probe point).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, replace

from graders.model import Limits
from graders.spec import assignments
from graders.spec.optable import Assignment
from kit import __version__

CLUSTERS = "~"  # separates the named clusters' digest from the rest of a grader id


def grader_id(assignment: Assignment, limits: Limits, isolation: str) -> str:
    """Version of everything that decides a grade: the code, the assignment, the limits, the
    answer key (a digest of every derived formula) and the containment a child gets. A change in
    any of them regrades the class on rerun: a grade made under another oracle or a weaker
    sandbox is never kept as "unchanged"."""
    from graders.judge import oracle

    scoring = replace(assignment, clusters=())
    spec = json.dumps([assignments.to_data(scoring), asdict(limits),
                       oracle.fingerprint(scoring), isolation], sort_keys=True)
    grader = f"{__version__}+{hashlib.sha256(spec.encode()).hexdigest()[:12]}"
    if not assignment.clusters:
        return grader
    wording = json.dumps([assignments.to_data(assignment).get("cluster"),
                          oracle.fingerprint(assignment)], sort_keys=True)
    return f"{grader}{CLUSTERS}{hashlib.sha256(wording.encode()).hexdigest()[:8]}"


def seed(secret: bytes, digest: str, grader: str) -> int:
    """The probe seed; the named-cluster suffix of `grader` is left out (see above)."""
    grader = grader.partition(CLUSTERS)[0]
    mac = hmac.new(secret, f"{digest}:{grader}".encode(), hashlib.sha256)
    return int.from_bytes(mac.digest()[:6], "big")
