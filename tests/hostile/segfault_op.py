# ruff: noqa
# hostile: crashes the interpreter (SIGSEGV) inside exp's _backward
# where: exp
# modes: strong weak container nowall user strong-bare weak-bare container-bare user-bare
import ctypes

ctypes.string_at(0)
