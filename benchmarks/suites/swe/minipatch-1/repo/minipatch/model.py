"""What a unified diff holds."""

from dataclasses import dataclass, field


@dataclass
class Hunk:
    old_start: int  # 1-based; 0 when the old side is empty
    old_len: int
    new_start: int
    new_len: int
    lines: list[tuple[str, str]] = field(default_factory=list)  # (' ' | '-' | '+', text)
    header: str = ""

    @property
    def old_lines(self) -> list[str]:
        """The lines this hunk expects to find (context and removed)."""
        return [text for tag, text in self.lines if tag in " -"]

    @property
    def new_lines(self) -> list[str]:
        """The lines it leaves in their place (context and added)."""
        return [text for tag, text in self.lines if tag in " +"]


@dataclass
class FilePatch:
    old_path: str
    new_path: str
    hunks: list[Hunk] = field(default_factory=list)

    def target(self, strip: int = 1) -> str:
        """The path to patch, without its first `strip` components (as patch -pN)."""
        path = self.new_path if self.new_path != "/dev/null" else self.old_path
        parts = path.split("/")
        return "/".join(parts[strip:]) if len(parts) > strip else parts[-1]
