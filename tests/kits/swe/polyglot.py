"""A small project in the eight languages the SWE kit's code tools know, for the search and code
tests: in each file a class (or struct), a method (or function) `area`, a use of it in code, and
the word `area` in a comment and in a string, which are no references."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    name: str
    text: str
    symbols: tuple[str, ...]  # lines the map shows for the file (stripped)
    definition: str  # a piece of the line where `area` is defined
    use: str  # ... where it is used in code

    def line(self, piece: str) -> int:
        return next(n for n, line in enumerate(self.text.splitlines(), 1) if piece in line)

    @property
    def comment_line(self) -> int:
        return self.line("area in a comment")

    @property
    def string_line(self) -> int:
        return self.line("area in a string")


SOURCES = (
    Source(
        "shapes.py",
        """\
class Shape:
    def area(self):
        return 1


def total(shapes):
    # area in a comment
    label = "area in a string"
    return sum(s.area() for s in shapes)
""",
        ("class Shape  [1-3]", "method area  [2-3]", "function total  [6-9]"),
        "def area",
        "s.area()",
    ),
    Source(
        "shapes.c",
        """\
struct shape { int w; int h; };

int area(const struct shape *s) { return s->w * s->h; }

int total(const struct shape *s, int n) {
    int sum = 0;
    /* area in a comment */
    const char *label = "area in a string";
    for (int i = 0; i < n; i++) sum += area(&s[i]);
    return sum;
}
""",
        ("struct shape  [1]", "function area  [3]", "function total  [5-11]"),
        "int area(",
        "sum += area(",
    ),
    Source(
        "shapes.cpp",
        """\
class Shape {
 public:
  int area() const { return 1; }
};

int total(const Shape *shapes, int n) {
  int sum = 0;
  // area in a comment
  const char *label = "area in a string";
  for (int i = 0; i < n; i++) sum += shapes[i].area();
  return sum;
}
""",
        ("class Shape  [1-4]", "method area  [3]", "function total  [6-12]"),
        "int area()",
        ".area();",
    ),
    Source(
        "shapes.js",
        """\
class Shape {
  area() { return 1; }
}

function total(shapes) {
  // area in a comment
  const label = "area in a string";
  return shapes.reduce((sum, s) => sum + s.area(), 0);
}
""",
        ("class Shape  [1-3]", "method area  [2]", "function total  [5-9]"),
        "area() {",
        "s.area()",
    ),
    Source(
        "shapes.ts",
        """\
class Shape {
  area(): number { return 1; }
}

function total(shapes: Shape[]): number {
  // area in a comment
  const label: string = "area in a string";
  return shapes.reduce((sum, s) => sum + s.area(), 0);
}
""",
        ("class Shape  [1-3]", "method area  [2]", "function total  [5-9]"),
        "area(): number",
        "s.area()",
    ),
    Source(
        "shapes.go",
        """\
package shapes

type Shape struct{ w, h int }

func (s Shape) area() int { return s.w * s.h }

func total(shapes []Shape) int {
\tsum := 0
\t// area in a comment
\tlabel := "area in a string"
\t_ = label
\tfor _, s := range shapes {
\t\tsum += s.area()
\t}
\treturn sum
}
""",
        ("struct Shape  [3]", "method Shape.area  [5]", "function total  [7-16]"),
        "func (s Shape) area",
        "s.area()",
    ),
    Source(
        "shapes.rs",
        """\
pub struct Shape { w: i32, h: i32 }

impl Shape {
    pub fn area(&self) -> i32 { self.w * self.h }
}

pub fn total(shapes: &[Shape]) -> i32 {
    // area in a comment
    let _label = "area in a string";
    shapes.iter().map(|s| s.area()).sum()
}
""",
        ("struct Shape  [1]", "method Shape.area  [4]", "function total  [7-11]"),
        "fn area",
        "s.area()",
    ),
    Source(
        "Shape.java",
        """\
public class Shape {
    int area() { return 1; }

    static int total(Shape[] shapes) {
        int sum = 0;
        // area in a comment
        String label = "area in a string";
        for (Shape s : shapes) sum += s.area();
        return sum;
    }
}
""",
        ("class Shape  [1-11]", "method area  [2]", "method total  [4-10]"),
        "int area()",
        "s.area()",
    ),
)


def write_tree(root: Path) -> Path:
    """The eight files under `root`/src, plus a README; returns `root`."""
    (root / "src").mkdir(parents=True, exist_ok=True)
    for source in SOURCES:
        (root / "src" / source.name).write_text(source.text)
    (root / "README.md").write_text("Shapes and their area, in eight languages.\n")
    return root
