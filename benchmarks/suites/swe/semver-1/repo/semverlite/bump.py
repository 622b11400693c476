"""Next versions."""

from dataclasses import replace

from semverlite.version import Version, coerce

PARTS = ("major", "minor", "patch", "prerelease", "release")


def bump(version: "str | Version", part: str, label: str = "rc") -> Version:
    """The version after `version`:
    major/minor/patch bump that number (and reset the lower ones, dropping pre-release and
    build); prerelease adds `-label.1` to the next patch, or increments a pre-release's last
    number (`1.0.0-rc.1` -> `1.0.0-rc.2`); release drops the pre-release."""
    v = coerce(version)
    if part == "major":
        return Version(v.major + 1, 0, 0)
    if part == "minor":
        return Version(v.major, v.minor + 1, 0)
    if part == "patch":
        return Version(v.major, v.minor, v.patch + 1)
    if part == "release":
        return replace(v, prerelease=(), build=())
    if part == "prerelease":
        if not v.prerelease:
            return Version(v.major, v.minor, v.patch + 1, (label, "1"))
        *head, last = v.prerelease
        if last.isdigit():
            return replace(v, prerelease=(*head, str(int(last) + 1)), build=())
        return replace(v, prerelease=(*v.prerelease, "1"), build=())
    raise ValueError(f"unknown part {part!r}; use one of {', '.join(PARTS)}")
