"""Unified diffs: parse and apply."""

from minipatch.apply import ApplyResult, apply_file_patch
from minipatch.errors import PatchError
from minipatch.model import FilePatch, Hunk
from minipatch.parse import parse_patch

__all__ = ["ApplyResult", "FilePatch", "Hunk", "PatchError", "apply_file_patch",
           "parse_patch"]
