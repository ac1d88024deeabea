# ruff: noqa
# hostile: fills every writable place it can find: the current folder, /tmp, /dev/shm, /dev, $TMPDIR
# where: end
# modes: strong weak container nowall user
# shows: filled
import os

total = 0
for folder in (".", "/tmp", "/dev/shm", "/dev", os.environ.get("TMPDIR", ".")):
    for number in range(16):
        try:
            with open(os.path.join(folder, f"fill{number}"), "wb") as handle:
                for _ in range(16):
                    handle.write(b"x" * (1 << 20))
                    handle.flush()
                    total += 1
        except OSError:
            break
print("filled", total, "MiB")
