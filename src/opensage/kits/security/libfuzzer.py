"""What the security kit knows of libFuzzer's command line and output: the flags each fuzzer
process gets, the sanitizers' options and memory limit for fuzzing, the names of the inputs it
writes (its artifacts) and the lines it prints (status lines, artifacts written, the closing
statistics). atheris, libFuzzer inside Python, takes the same flags and prints the same lines."""

from __future__ import annotations

import re
from typing import Any

from opensage.kits.security.workbench import DEFAULT_RSS_MB

# The string libFuzzer's driver carries in its flag table: in every binary linked with it,
# stripped or not, and in no other program.
LIBFUZZER_MARK = b"minimize_crash_internal_step"
ARTIFACT_KINDS = ("crash", "leak", "timeout", "oom")  # an artifact's name: <kind>-<SHA-1>
# What libFuzzer's SIGXFSZ handler prints (it writes an artifact too): the file-size limit, not
# a crash of the target.
FILE_SIZE_EXCEEDED = "ERROR: libFuzzer: file size exceeded"

# "#123456	NEW    cov: 45 ft: 60 corp: 12/340b lim: 8 exec/s: 61728 rss: 40Mb L: 4/8 MS: ..."
STATS = re.compile(
    r"^#(?P<runs>\d+)\s+(?P<event>INITED|NEW|REDUCE|pulse|DONE|RELOAD)\b(?P<rest>.*)"
)
STAT_FIELDS = {
    "cov": re.compile(r"\bcov: (\d+)"),
    "ft": re.compile(r"\bft: (\d+)"),
    "corpus": re.compile(r"\bcorp: (\d+)/"),
    "exec_per_s": re.compile(r"\bexec/s: (\d+)"),
    "rss_mb": re.compile(r"\brss: (\d+)Mb"),
}
FINAL_STAT = re.compile(r"^stat::(?P<name>\w+):\s+(?P<value>\d+)", re.MULTILINE)
WRITTEN = re.compile(r"Test unit written to (?P<path>\S+)")


def libfuzzer_flags(
    timeout: int, rss_mb: int, crashes: str, dictionary: str | None = None
) -> list[str]:
    """The flags every fuzzer process gets (besides -max_total_time, -seed and the corpus):
    the per-input timeout, the memory limit, where artifacts go, the closing statistics."""
    flags = [
        f"-timeout={timeout}",
        f"-rss_limit_mb={rss_mb}",
        f"-artifact_prefix={crashes}/",
        "-print_final_stats=1",
    ]
    return [*flags, f"-dict={dictionary}"] if dictionary else flags


def fuzzing_env(env: dict[str, str]) -> dict[str, str]:
    """The sanitizers' options for fuzzing: run_poc's, less their per-allocation limits
    (max_allocation_size_mb, malloc_limit_mb). Under those a sanitizer makes an allocation over
    the limit return NULL, which most targets survive, so the fuzzer would never see it;
    libFuzzer's own -malloc_limit_mb (its -rss_limit_mb) reports it as an oom-* artifact
    instead. Their hard_rss_limit_mb stays, as a backstop above libFuzzer's RSS limit."""
    return {
        name: re.sub(r"(^|:)(max_allocation_size_mb|malloc_limit_mb)=\d+", "", value).strip(":")
        for name, value in env.items()
    }


def rss_limit_mb(env: dict[str, str]) -> int:
    """libFuzzer's -rss_limit_mb (and so -malloc_limit_mb) for the sanitizers' options `env`: a
    tenth below their hard_rss_limit_mb, so that libFuzzer reports an input over it as an oom-*
    artifact before the sanitizer stops the process."""
    found = re.search(r"(?:^|:)hard_rss_limit_mb=(\d+)", env.get("ASAN_OPTIONS", ""))
    return (int(found[1]) if found else DEFAULT_RSS_MB) * 9 // 10


def parse_stats(line: str) -> dict[str, Any] | None:
    """A libFuzzer status line (`#N NEW cov: X ft: Y corp: C/Sb exec/s: Z rss: RMb ...`) as
    {"event", "runs", "cov", "ft", "corpus", "exec_per_s", "rss_mb"}, the fields it has; None
    for any other line. atheris prints the same lines."""
    match = STATS.match(line.strip())
    if match is None:
        return None
    out: dict[str, Any] = {"event": match["event"], "runs": int(match["runs"])}
    for name, pattern in STAT_FIELDS.items():
        found = pattern.search(match["rest"])
        if found:
            out[name] = int(found[1])
    return out


def artifact_kind(name: str) -> str | None:
    """The kind of a crashing input libFuzzer wrote (crash, leak, timeout, oom), from its file
    name; None for any other file."""
    kind = name.split("-", 1)[0]
    return kind if kind in ARTIFACT_KINDS else None
