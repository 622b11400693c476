"""Small C programs with planted bugs, for the security kit's tests, and what runs them.

Each bug's line carries a `/* NAME */` marker, so that tests find the line a report must name
(`line_of`) instead of counting. The programs read their input with `read_input` (input.c, a
file with no main: `build` links it into each of them).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from opensage.kits.security.workbench import Workbench
from opensage.sandbox import Sandbox, SandboxLimits

T = TypeVar("T")

INPUT = """\
#include <stdio.h>
#include <stddef.h>
size_t read_input(const char *path, unsigned char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}
"""

PROLOGUE = """\
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
size_t read_input(const char *path, unsigned char *buf, size_t cap);
static volatile int sink;
"""

# The first byte of the input is an index into a 16-byte heap buffer.
HEAP = (
    PROLOGUE
    + """\
__attribute__((noinline)) void store(char *cells, int at) {
  cells[at] = 'x';  /* HEAP */
}
int main(int argc, char **argv) {
  unsigned char in[64] = {0};
  read_input(argv[1], in, sizeof in);
  char *cells = malloc(16);
  store(cells, in[0]);
  sink = cells[0];
  free(cells);
  return 0;
}
"""
)

# "U" frees the node before it is read.
UAF = (
    PROLOGUE
    + """\
struct node { int value; struct node *next; };
int main(int argc, char **argv) {
  unsigned char in[64] = {0};
  read_input(argv[1], in, sizeof in);
  struct node *node = malloc(sizeof *node);
  node->value = 7;
  if (in[0] == 'U') free(node);
  sink = node->value;  /* UAF */
  if (in[0] != 'U') free(node);
  return 0;
}
"""
)

# The first byte indexes an 8-byte array on the stack.
STACK = (
    PROLOGUE
    + """\
__attribute__((noinline)) int pick(int at) {
  char name[8] = "abcdefg";
  char *volatile cursor = name;  /* through a pointer: UBSan's bounds check would come first */
  return cursor[at];  /* STACK */
}
int main(int argc, char **argv) {
  unsigned char in[64] = {0};
  read_input(argv[1], in, sizeof in);
  sink = pick(in[0]);
  return 0;
}
"""
)

# Well-behaved unless told: "H" hangs, "E" exits with 3, "S" dereferences a bad pointer, "A"
# aborts, "L" leaks, "O" overflows a signed int, "M" takes memory without end.
MODES = (
    PROLOGUE
    + """\
static void *volatile kept;
__attribute__((noinline)) int twice(int value) {
  return value * 2;  /* OVERFLOW */
}
int main(int argc, char **argv) {
  unsigned char in[64] = {0};
  read_input(argv[1], in, sizeof in);
  switch (in[0]) {
  case 'H': for (;;) sleep(1);
  case 'E': return 3;
  case 'S': sink = *(volatile int *)(long)(in[1] + 16);  /* SEGV */ break;
  case 'A': abort();
  case 'L': kept = malloc(23); kept = 0; break;
  case 'O': sink = twice(0x40000000 + in[1]); break;
  case 'M': for (;;) { char *more = malloc(16 << 20); memset(more, 1, 16 << 20); kept = more; }
  }
  printf("fine\\n");
  return 0;
}
"""
)


def line_of(source: str, marker: str) -> int:
    """The line of `source` that carries `/* marker */`."""
    return next(i for i, line in enumerate(source.splitlines(), 1) if f"/* {marker} */" in line)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def need_clang() -> None:
    if not any(shutil.which(n) for n in ("clang", "clang-14", "clang-19")):
        pytest.fail("clang is missing: scripts/setup.sh installs it (with libFuzzer and gdb)")


def bench(root: Path, sandbox: Sandbox, **kw: Any) -> Workbench:
    return Workbench(root, sandbox, SandboxLimits(), **kw)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)
