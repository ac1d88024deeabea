"""Running untrusted code, and the trust boundary.

`harness.py` is the only file that runs inside the sandbox, beside the student's code (standard
library only; it never imports `graders`). Everything else here is the parent's side: reading
the submission file (`loader`), starting and containing the child (`sandbox`, `cgroups`),
driving it through a probe plan and parsing its records once into `graders.model` types
(`session`), and the same runners in the student's own kernel for self-checks (`inprocess`, not
a boundary). The wire protocol is the table in `protocol.py`.
"""
