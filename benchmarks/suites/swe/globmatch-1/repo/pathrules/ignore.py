"""`.gitignore`-style rule files."""

from dataclasses import dataclass

from pathrules.match import match, normalize


@dataclass(frozen=True)
class Rule:
    pattern: str  # anchored at the root, as match() takes it
    negate: bool
    dir_only: bool
    line: int


class IgnoreRules:
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules

    @classmethod
    def parse(cls, text: str) -> "IgnoreRules":
        rules = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            if "/" in line:
                pattern = line.lstrip("/")  # anchored at the root
            else:
                pattern = "**/" + line  # at any depth
            rules.append(Rule(pattern, negate, dir_only, number))
        return cls(rules)

    def _verdict(self, path: str, is_dir: bool) -> bool | None:
        """The last rule matching `path` itself: True (ignored), False (re-included), None."""
        verdict = None
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if match(path, rule.pattern):
                verdict = not rule.negate
        return verdict

    def ignored(self, path: str, is_dir: bool = False) -> bool:
        """Whether `path` is ignored: by a rule on it, or because a directory above it is (a
        file in an ignored directory cannot be re-included, as in git)."""
        parts = normalize(path).split("/")
        for depth in range(1, len(parts)):
            if self._verdict("/".join(parts[:depth]), is_dir=True):
                return True
        return bool(self._verdict("/".join(parts), is_dir))
