"""The units a duration is written in, largest first."""

UNITS = (
    ("w", 7 * 24 * 3600),
    ("d", 24 * 3600),
    ("h", 3600),
    ("m", 60),
    ("s", 1),
)

SECONDS = dict(UNITS)

ALIASES = {
    "weeks": "w", "week": "w", "wk": "w",
    "days": "d", "day": "d",
    "hours": "h", "hour": "h", "hr": "h", "hrs": "h",
    "minutes": "m", "minute": "m", "min": "m", "mins": "m",
    "seconds": "s", "second": "s", "sec": "s", "secs": "s",
}


def canonical(unit: str) -> str:
    """The one-letter name of a unit, or KeyError."""
    unit = unit.lower()
    if unit in SECONDS:
        return unit
    return ALIASES[unit]
