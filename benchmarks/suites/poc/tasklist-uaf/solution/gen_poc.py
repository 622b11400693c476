"""Writes the PoC: a script that drops a task. `drop` frees the matching task, then reads its
`next` field to go on along the list."""

import sys

data = b"add 1 2 buy milk\nadd 2 3 book dentist\ndrop buy\nprint\n"
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
