# ruff: noqa
# hostile: tries to plant files in the grader's package, site-packages and the stdlib
# where: end
# modes: strong weak container nowall user
# shows: refused \S+/site-packages/gradkit-hostile
import os

for directory in ("__GRADERS__", "__SITE__", "__STDLIB__"):
    target = os.path.join(directory, "gradkit-hostile-__TOKEN__.py")
    try:
        with open(target, "x") as handle:
            handle.write("# planted\n")
        print("WROTE", target)
    except OSError as error:
        print("refused", target, error.__class__.__name__)
for existing in ("__GRADERS__/scoring.py", "__STDLIB__/os.py"):
    try:
        open(existing, "a").close()  # opening for append is enough to prove write access
        print("WROTE", existing)
    except OSError as error:
        print("refused", existing, error.__class__.__name__)
