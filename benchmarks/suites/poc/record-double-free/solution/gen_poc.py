"""Writes the PoC: a record whose name is read (and allocated) before a bad age makes the
parser fail. The parser frees the record's fields on the error, and its caller frees them
again."""

import sys

data = b"name=Grace Hopper;age=old\n"
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
