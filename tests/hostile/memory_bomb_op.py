# ruff: noqa
# hostile: a memory bomb inside exp's _backward, in this process and in forked children
# where: exp
# modes: strong weak container nowall user strong-bare weak-bare container-bare user-bare
# needs: cgroup
import os

for _ in range(4):
    if os.fork() == 0:
        blocks = []
        try:
            while True:
                blocks.append(bytearray(32 << 20))  # touched: bytearray zero-fills
        finally:
            os._exit(0)
blocks = []
while True:
    blocks.append(bytearray(32 << 20))
