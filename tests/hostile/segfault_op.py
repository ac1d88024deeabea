# ruff: noqa
# hostile: crashes the interpreter (SIGSEGV) inside exp's _backward
# where: exp
# modes: strong weak
import ctypes

ctypes.string_at(0)
