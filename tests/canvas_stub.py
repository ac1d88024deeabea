"""A local stand-in for the four Canvas API endpoints `gradkit export --upload` calls.

It answers like Canvas does (JSON bodies, 401 with WWW-Authenticate for a bad token, 404 for an
unknown course or assignment, a Progress object for the bulk grade update that is "running" on
the first query and done on the next) and records every grade update it is sent, and each
submission comment sent with one, so a test can check exactly what reached "Canvas".
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

TOKEN = "stub-token-1234"


@dataclass
class CanvasStub:
    course: int = 77
    assignment: int = 4242
    points_possible: float = 0.0
    fail_job: bool = False  # the bulk update's job ends "failed"
    updates: list[dict[str, str]] = field(default_factory=list)  # user id -> posted grade
    comments: list[dict[str, str]] = field(default_factory=list)  # user id -> text_comment
    tokens: list[str] = field(default_factory=list)
    queries: int = 0
    url: str = ""


def _handler(stub: CanvasStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the test's output clean
            pass

        def _send(self, status: int, body: object, headers: dict[str, str] | None = None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            stub.tokens.append(token)
            if token != TOKEN:
                self._send(401, {"errors": [{"message": "Invalid access token."}]},
                           {"WWW-Authenticate": 'Bearer realm="canvas-lms"'})
            return token == TOKEN

        def do_GET(self) -> None:
            if not self._authorised():
                return
            path = self.path.split("?")[0]
            base = f"/api/v1/courses/{stub.course}"
            if path == base:
                return self._send(200, {"id": stub.course, "name": "Backprop 101"})
            if path == f"{base}/assignments/{stub.assignment}":
                return self._send(200, {"id": stub.assignment, "course_id": stub.course,
                                        "name": "Backprop",
                                        "points_possible": stub.points_possible})
            if path == "/api/v1/progress/9":
                stub.queries += 1
                state = "running" if stub.queries < 2 else (
                    "failed" if stub.fail_job else "completed")
                return self._send(200, {"id": 9, "tag": "submissions_update",
                                        "workflow_state": state,
                                        "message": "user 104 is not in the course"
                                        if stub.fail_job else None})
            self._send(404, {"errors": [{"message": "The specified resource does not exist."}]})

        def do_POST(self) -> None:
            if not self._authorised():
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            path = f"/api/v1/courses/{stub.course}/assignments/{stub.assignment}"
            if self.path.split("?")[0] != f"{path}/submissions/update_grades":
                return self._send(404, {"errors": [{"message": "not found"}]})
            grades, comments = {}, {}
            for key, value in parse_qsl(body):
                match = re.fullmatch(r"grade_data\[(\w+)\]\[(posted_grade|text_comment)\]", key)
                if match:
                    (grades if match.group(2) == "posted_grade" else comments)[
                        match.group(1)] = value
            stub.updates.append(grades)
            stub.comments.append(comments)
            self._send(200, {"id": 9, "tag": "submissions_update", "workflow_state": "queued"})

    return Handler


class running:  # noqa: N801
    """Serve `stub` on a free localhost port for the length of a `with` block."""

    def __init__(self, stub: CanvasStub) -> None:
        self.stub = stub
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))

    def __enter__(self) -> CanvasStub:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.stub.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.stub

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
