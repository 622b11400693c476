"""`minipatch [-pN] [--dry-run] < patch`: apply a unified diff to the files it names."""

import argparse
import sys
from pathlib import Path

from minipatch.apply import apply_file_patch
from minipatch.errors import PatchError
from minipatch.parse import parse_patch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minipatch", description=__doc__)
    parser.add_argument("-p", dest="strip", type=int, default=1)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--directory", "-d", default=".")
    args = parser.parse_args(argv)
    status = 0
    for file_patch in parse_patch(sys.stdin.read()):
        target = Path(args.directory) / file_patch.target(args.strip)
        old = target.read_text() if target.exists() else ""
        try:
            result = apply_file_patch(old, file_patch)
        except PatchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        for number, offset in enumerate(result.offsets, start=1):
            if offset:
                print(f"{target}: hunk #{number} applied with offset {offset:+d}")
        if not args.dry_run:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(result.text)
        print(f"patched {target}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
