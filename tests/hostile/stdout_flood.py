# ruff: noqa
# hostile: prints 50 MB at import
# where: end
# modes: strong weak container nowall user
import sys

line = "flood " * 1000 + "\n"
for _ in range(50_000_000 // len(line)):
    sys.stdout.write(line)
