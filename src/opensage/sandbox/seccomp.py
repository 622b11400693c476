"""The seccomp filter bwrap loads for each command: no ptrace of the sandbox's pid 1.

bwrap's pid 1 reaps the command and reports its end, with the command's uid: a command could
attach to it (`strace -p 1`, `gdb -p 1`), and a pid 1 left stopped by its tracer never reports
the end, so the sandbox hung until its timeout. The filter answers EPERM to any ptrace request
aimed at pid 1; the command's own processes stay traceable, so debuggers still work on them.
"""

from __future__ import annotations

import errno
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
AUDIT_ARCH_AARCH64 = 0xC00000B7
AUDIT_ARCH_ARM = 0x40000028
X32 = 0x40000000  # x32 system calls come as x86-64 ones with this bit set
# ptrace's number in each system-call table a program on this machine can use.
PTRACE: dict[str, dict[int, tuple[int, ...]]] = {
    "x86_64": {AUDIT_ARCH_X86_64: (101, X32 | 521), AUDIT_ARCH_I386: (26,)},
    "aarch64": {AUDIT_ARCH_AARCH64: (117,), AUDIT_ARCH_ARM: (26,)},
}

LOAD, JUMP_IF_EQUAL, RETURN = 0x20, 0x15, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_RET|K
ALLOW, DENY = 0x7FFF0000, 0x00050000 | errno.EPERM  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO
NR, ARCH, PID = 0, 4, 24  # offsets in seccomp_data; ptrace's pid: the low half of args[1]


def ptrace_filter(machine: str | None = None) -> bytes | None:
    """The filter as bwrap's --seccomp reads it, or None on a machine it does not know."""
    tables = PTRACE.get(machine or platform.machine())
    if tables is None:
        return None
    program: list[tuple[int, int, int, int]] = [(LOAD, 0, 0, ARCH)]
    checks = []  # the places that jump to the pid check, once its place is known
    for arch, numbers in tables.items():
        program.append((JUMP_IF_EQUAL, 0, len(numbers) + 2, arch))  # else: the next arch
        program.append((LOAD, 0, 0, NR))
        for number in numbers:
            checks.append(len(program))
            program.append((JUMP_IF_EQUAL, 0, 0, number))
        program.append((RETURN, 0, 0, ALLOW))
    program.append((RETURN, 0, 0, ALLOW))  # an architecture not listed
    check = len(program)
    program += [
        (LOAD, 0, 0, PID),
        (JUMP_IF_EQUAL, 0, 1, 1),
        (RETURN, 0, 0, DENY),
        (RETURN, 0, 0, ALLOW),
    ]
    for at in checks:
        program[at] = (JUMP_IF_EQUAL, check - at - 1, 0, program[at][3])
    return b"".join(struct.pack("=HBBI", *op) for op in program)
