"""Checks of the migrated configurations in /app/configs-v2 and the list of invalid files."""

import hashlib
import json
from pathlib import Path

EXPECTED = Path(__file__).parent / "expected"
TARGET = Path("/app/configs-v2")
ERRORS = Path("/app/migration-errors.txt")
INVALID = ["frontend.json", "gateway.json", "legacy-auth.json", "metrics.json",
           "notifier.json", "queue.json", "unnamed.json"]
ORIGINALS = {
    "billing.json": "2d1e6816c77eed9e43f44d61c0cae0c517019456700cbcf2a679be044fb6f11a",
    "cache.json": "4a7a27d74c02bf1373f0cac003827279e00d7bcde919f81c69c9ce6f7df76b7f",
    "frontend.json": "d22a34e82386bdd77d0fe01b6c9ae8adf2325443481afd7f31a63d869767c2e3",
    "gateway.json": "909fc08c6e749dee4c8480bafd0f22ad7f92f85a8cb3eabb084ba8bced98d70f",
    "legacy-auth.json": "48bd25643d48b6fab886b0449e72dfb5ecf4b25d8d90aaca78fa351605eed06d",
    "mailer.json": "644d742c33eabecb64ccae471fcf66205d5d69dd841fb0cdfa011e69863c8c19",
    "metrics.json": "3826a59f880e59db0ac439d9b2b251858470f5e53688b00519cd257af846ba73",
    "minimal.json": "695d98defa649be8e6d6256701e86b92685869d866cf2905b3c25dc1d21a53d9",
    "notifier.json": "607fd380a67761699074899cb19af751aacac04a2a236dd7c682d769bb1faa71",
    "queue.json": "9c398f4c7abba80cfafa762d28b422e38f5a6768975d71e26976ca32ecb959f2",
    "reports.json": "9225bb4bfe7d65ccbba8162cffd1bf0266fb6e3e191e212a81fe148777e7881c",
    "search.json": "e0d8951b2d571d591347e780bb425fb950ffd896f9abf0691ec85404e7910b4d",
    "unnamed.json": "7aacd9faacb3ed6656bc1a40321f4671a2c5a6e23291680341f0d31e140586d5",
}


def test_valid_files_migrated():
    failures = []
    for expected in sorted(EXPECTED.glob("*.json")):
        migrated = TARGET / expected.name
        if not migrated.is_file():
            failures.append(f"{expected.name}: not written")
            continue
        got, want = json.loads(migrated.read_text()), json.loads(expected.read_text())
        if got != want:
            failures.append(f"{expected.name}: got {got}, expected {want}")
    assert not failures, "\n".join(failures)


def test_types_are_exact():
    for expected in sorted(EXPECTED.glob("*.json")):
        got = json.loads((TARGET / expected.name).read_text())
        connection = got["connection"]
        for key in ("port", "timeout_ms", "retries"):
            assert type(connection[key]) is int, f"{expected.name}: {key} must be an integer"
        assert type(got["debug"]) is bool, f"{expected.name}: debug must be a boolean"


def test_invalid_files_listed_and_not_written():
    assert ERRORS.is_file(), "/app/migration-errors.txt was not written"
    lines = [line for line in ERRORS.read_text().splitlines() if line.strip()]
    names = [line.split(":", 1)[0].strip() for line in lines]
    assert names == INVALID
    assert all(line.split(":", 1)[1].strip() for line in lines), "a reason is missing"
    for name in INVALID:
        assert not (TARGET / name).exists(), f"{name} is invalid: no version 2 file for it"
    assert sorted(p.name for p in TARGET.iterdir()) == sorted(p.name for p in
                                                               EXPECTED.glob("*.json"))


def test_originals_unchanged():
    for name, digest in ORIGINALS.items():
        data = (Path("/app/configs") / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"{name} was changed"
