"""Precedence (SemVer 2.0.0, section 11): the order of versions.

Major, minor and patch compare numerically. A version with a pre-release is lower than the
same version without one. Build metadata does not count.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from semverlite.version import Version


def precedence_key(version: "Version") -> tuple[Any, ...]:
    """A key that sorts versions by precedence."""
    release = (version.major, version.minor, version.patch)
    if not version.prerelease:
        return (release, 1, ())
    return (release, 0, version.prerelease)
