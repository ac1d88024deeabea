# ruff: noqa
# hostile: reads the grader's files, the repository and the grader's memory and environment
# where: end
# modes: strong weak container nowall user
# shows: refused \S+/graders/judge/oracle\.py
import os

for path in ("__GRADERS__/judge/oracle.py", "__GRADERS__/judge/probes.py", "/proc/__PARENT__/environ",
             "/proc/__PARENT__/cmdline", "__REPO__/graders/spec/optable.py"):
    try:
        with open(path, "rb") as handle:
            print("LEAK", path, handle.read(40))
    except OSError as error:
        print("refused", path, error.__class__.__name__)
for directory in ("__GRADERS__", "__REPO__", "/home"):
    try:
        print("LEAK", directory, os.listdir(directory)[:5])
    except OSError as error:
        print("refused", directory, error.__class__.__name__)
