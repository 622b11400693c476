"""Checks of /app/first_bad.txt (the first commit at which median() went wrong)."""

import hashlib
from pathlib import Path

ANSWER = Path("/app/first_bad.txt")
FIRST_BAD = "b6fea28c0caa57bbb245ef21ec0bf1dc9d992324"
SYNTAX_ERROR = "40afb70"  # the commit that cannot be imported
REPOSITORY = Path("/app/project.git")
FILES = {
    "HEAD":
        "28d25bf82af4c0e2b72f50959b2beb859e3e60b9630a5e8c603dad4ddb2b6e80",
    "config":
        "dd548269913b6adbdfa7049170ea86850050cb762ea3b9c510a0b2986d2113e3",
    "objects/pack/pack-69fb0ffb012ce87148fcb0bcacf5b785b059c6ad.idx":
        "613905341c5dc073a112c6e767908ca97e717d56caf7ff3e1756ed8f78837174",
    "objects/pack/pack-69fb0ffb012ce87148fcb0bcacf5b785b059c6ad.pack":
        "312469d51d93779ba8694ab0e3fe6ae833ae86cdf288429db36b7dcff5fd4be8",
    "packed-refs":
        "ebcec55d1640e17d4fc4edef2930c786dd6665c43bffd03700fb7b6532e38194",
    "refs/heads/main":
        "d42128d92e08f6b3ae8d63e969a4f8589321f0c18350cd7d71ebcdf6e7669507",
}


def test_answer():
    assert ANSWER.is_file(), "/app/first_bad.txt was not written"
    answer = ANSWER.read_text().strip()
    assert len(answer) == 40, f"not a full commit hash: {answer!r}"
    assert not answer.startswith(SYNTAX_ERROR), \
        "that commit does not import at all: it does not count as a wrong median"
    assert answer == FIRST_BAD


def test_repository_unchanged():
    for name, digest in FILES.items():
        path = REPOSITORY / name
        assert path.is_file(), f"{name} is missing from the repository"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{name} changed"
