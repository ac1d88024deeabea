# ruff: noqa
# hostile: crashes the interpreter (SIGSEGV) inside exp's _backward
# where: exp
# modes: strong weak container strong-bare weak-bare container-bare
import ctypes

ctypes.string_at(0)
