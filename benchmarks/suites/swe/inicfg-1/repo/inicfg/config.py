"""The configuration object."""

from inicfg.errors import ConfigError
from inicfg.interpolate import interpolate
from inicfg.lexer import entries

DEFAULT = "DEFAULT"
TRUE = {"1", "yes", "true", "on"}
FALSE = {"0", "no", "false", "off"}
_UNSET = object()


class Config:
    def __init__(self) -> None:
        self._sections: dict[str, dict[str, str]] = {}
        self._lines: dict[tuple[str, str], int] = {}

    def set(self, section: str, key: str, value: str, line: int = 0) -> None:
        self._sections.setdefault(section, {})[key.lower()] = value
        self._lines[(section, key.lower())] = line

    def sections(self) -> list[str]:
        return [s for s in self._sections if s != DEFAULT]

    def keys(self, section: str) -> list[str]:
        own = list(self._sections.get(section, {}))
        return own + [k for k in self._sections.get(DEFAULT, {}) if k not in own]

    def raw(self, section: str, key: str) -> str | None:
        """The value as written (the section's, else DEFAULT's), or None."""
        if key in self._sections.get(section, {}):
            return self._sections[section][key]
        if section != DEFAULT and section in self._sections:
            return self._sections.get(DEFAULT, {}).get(key)
        return None

    def get(self, section: str, key: str, fallback: object = _UNSET) -> str:
        value = self.raw(section, key.lower())
        if value is None:
            if fallback is not _UNSET:
                return fallback  # type: ignore[return-value]
            raise ConfigError(f"[{section}] has no key {key!r}")
        return interpolate(self, section, value)

    def getint(self, section: str, key: str) -> int:
        value = self.get(section, key)
        try:
            return int(value)
        except ValueError:
            raise ConfigError(self._where(section, key) + f"{key} = {value!r} is not an "
                              "integer") from None

    def getbool(self, section: str, key: str) -> bool:
        value = self.get(section, key).lower()
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        raise ConfigError(self._where(section, key) + f"{key} = {value!r} is not a boolean")

    def getlist(self, section: str, key: str) -> list[str]:
        """A value split on commas and new lines, without empty items."""
        value = self.get(section, key)
        return [item.strip() for line in value.splitlines() for item in line.split(",")
                if item.strip()]

    def _where(self, section: str, key: str) -> str:
        line = self._lines.get((section, key.lower())) or self._lines.get((DEFAULT,
                                                                           key.lower()))
        return f"line {line}: " if line else ""


def load(text: str) -> Config:
    config = Config()
    for entry in entries(text):
        config.set(entry.section, entry.key, entry.value, entry.line)
    return config
