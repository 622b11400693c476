"""An ordered mapping in which a key may repeat (as in query strings)."""

from collections.abc import Iterable, Iterator


class MultiDict:
    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs: list[tuple[str, str]] = list(pairs)

    def __getitem__(self, key: str) -> str:
        """The first value of `key`."""
        for k, v in self._pairs:
            if k == key:
                return v
        raise KeyError(key)

    def get(self, key: str, default: str | None = None) -> str | None:
        try:
            return self[key]
        except KeyError:
            return default

    def getall(self, key: str) -> list[str]:
        return [v for k, v in self._pairs if k == key]

    def add(self, key: str, value: str) -> None:
        self._pairs.append((key, value))

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def __contains__(self, key: object) -> bool:
        return any(k == key for k, _ in self._pairs)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for k, _ in self._pairs:
            if k not in seen:
                seen.add(k)
                yield k

    def __len__(self) -> int:
        return len(set(k for k, _ in self._pairs))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MultiDict) and self._pairs == other._pairs

    def __repr__(self) -> str:
        return f"MultiDict({self._pairs!r})"
