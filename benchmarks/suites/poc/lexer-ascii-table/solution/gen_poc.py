"""Writes the PoC: source text with a non-ASCII byte (the first byte of UTF-8 'é', 0xc3). The
lexer looks every byte up in its 128-entry class table, so 0xc3 (195) reads past the table's
end."""

import sys

data = "int caf\u00e9 = 1;\n".encode()
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
