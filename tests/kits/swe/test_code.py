"""`symbols`, `references` and `parse_errors` (tree-sitter), on trees the tests write."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from opensage.core.tools import ToolError
from opensage.kits.swe.code import references, symbols
from opensage.kits.swe.code_index import CodeIndex
from opensage.kits.swe.grammars import EXTENSIONS, parse_errors
from opensage.sandbox import open_sandbox
from tests.kits.swe.polyglot import SOURCES, write_tree


@pytest.fixture
def tree(tmp_path):
    return write_tree(tmp_path / "work")


def file_block(out: str, rel: str) -> list[str]:
    """The map's lines for one file (stripped), without its header."""
    lines = out.splitlines()
    start = lines.index(rel) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith(" ")), len(lines))
    return [line.strip() for line in lines[start:end]]


def test_the_map_of_eight_languages(tree):
    out = symbols(tree, CodeIndex())
    for source in SOURCES:
        assert file_block(out, f"src/{source.name}") == list(source.symbols), source.name
    assert "README.md" not in out
    # Methods written inside their class are indented under it.
    assert "src/shapes.py\n  class Shape  [1-3]\n    method area  [2-3]\n" in out


def test_where_a_symbol_is_defined(tree):
    out = symbols(tree, CodeIndex(), name="area")
    assert out.splitlines()[0] == "8 definitions of 'area':"
    for source in SOURCES:
        line = source.line(source.definition)
        assert f"src/{source.name}:{line}: " in out, source.name
    assert "src/shapes.py:2: method Shape.area  [2-3]\n    def area(self):" in out
    qualified = symbols(tree, CodeIndex(), name="Shape.area")
    assert qualified.splitlines()[0] == "7 definitions of 'Shape.area':"  # C has no class
    assert "src/shapes.c:" not in qualified
    # A single definition is shown whole, as it is written.
    one = symbols(tree, CodeIndex(), path="src/shapes.py", name="Shape.area")
    assert one.splitlines()[:2] == [
        "1 definition of 'Shape.area':",
        "src/shapes.py:2-3: method Shape.area",
    ]
    assert one.splitlines()[2:4] == ["```python", "    def area(self):"]
    assert one.endswith("\n```")
    missing = symbols(tree, CodeIndex(), name="are")
    assert (
        "no definition of 'are'" in missing
        and "Similar names:" in missing
        and "Shape.area" in missing
    )


def test_references_come_from_the_syntax_tree(tree):
    out = references(tree, CodeIndex(), "area")
    assert out.splitlines()[0].startswith("16 lines using 'area' in 8 files")
    for source in SOURCES:
        rel = f"src/{source.name}"
        definition, use = source.line(source.definition), source.line(source.use)
        assert f"{rel}:{definition}: " in out and f"{rel}:{use}: " in out, source.name
        line = next(x for x in out.splitlines() if x.startswith(f"{rel}:{definition}: "))
        assert line.endswith("(definition)")
        # The word in a comment and in a string is no reference.
        assert f"{rel}:{source.comment_line}:" not in out, source.name
        assert f"{rel}:{source.string_line}:" not in out, source.name
    one = references(tree, CodeIndex(), "total", path="src/shapes.go")
    assert one.splitlines() == [
        "1 line using 'total' in 1 file (from the syntax tree: comments and strings left out)",
        "src/shapes.go:7: func total(shapes []Shape) int {   (definition)",
    ]
    assert "no reference to 'nowhere'" in references(tree, CodeIndex(), "nowhere")
    with pytest.raises(ToolError, match="not an identifier"):
        references(tree, CodeIndex(), "a b")


def test_the_cache_parses_only_what_changed(tree):
    index = CodeIndex()
    first = symbols(tree, index)
    assert index.parses == len(SOURCES)
    assert symbols(tree, index) == first
    symbols(tree, index, name="area")
    assert index.parses == len(SOURCES)  # nothing re-parsed
    changed = tree / "src" / "shapes.py"
    changed.write_text(changed.read_text() + "\n\ndef perimeter(shape):\n    return 4\n")
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    out = symbols(tree, index)
    assert index.parses == len(SOURCES) + 1
    assert "function perimeter  [12-13]" in file_block(out, "src/shapes.py")[-1]
    (tree / "src" / "shapes.go").unlink()
    assert "shapes.go" not in symbols(tree, index)
    assert len(index) == len(SOURCES) - 1 and index.parses == len(SOURCES) + 1


def test_ignored_hidden_huge_and_binary_files_are_skipped(tmp_path):
    root = tmp_path / "work"
    for folder in ("node_modules/lib", ".venv", "src"):
        (root / folder).mkdir(parents=True)
    (root / ".gitignore").write_text("node_modules/\n")
    (root / "node_modules/lib/dep.js").write_text("function dependency() {}\n")
    (root / ".venv/tool.py").write_text("def hidden_tool(): pass\n")
    (root / "src/app.py").write_text("def app(): pass\n")
    (root / "src/big.js").write_text("function big() {}\n" + "// padding\n" * 200)
    (root / "src/blob.py").write_bytes(b"def blob(): pass\n\0\0\0")
    index = CodeIndex(max_file_bytes=1000)
    out = symbols(root, index)
    assert out.splitlines() == ["src/app.py", "  function app  [1]"]
    assert "no definition of 'dependency'" in symbols(root, index, name="dependency")
    assert "no reference to 'big'" in references(root, index, "big")


def test_a_planted_symlink_cannot_lead_outside(tmp_path):
    root = tmp_path / "work"
    (root / "src").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("class Secret:\n    def key(self): pass\n")
    (root / "src" / "mine.py").write_text("def mine(): pass\n")
    (root / "src" / "link.py").symlink_to(outside / "secret.py")
    (root / "linked").symlink_to(outside)
    index = CodeIndex()
    assert "Secret" not in symbols(root, index)
    assert "no definition of 'Secret'" in symbols(root, index, name="Secret")
    assert "no reference to 'Secret'" in references(root, index, "Secret")
    for path in ("src/link.py", "linked", "../outside", str(outside / "secret.py")):
        with pytest.raises(ToolError, match="outside the work directory"):
            symbols(root, index, path=path)
        with pytest.raises(ToolError, match="outside the work directory"):
            references(root, index, "Secret", path=path)


def test_a_path_narrows_and_a_large_map_says_where_to_look(tmp_path):
    root = tmp_path / "work"
    for n in range(40):
        package = root / f"pkg{n % 4}"
        package.mkdir(parents=True, exist_ok=True)
        body = "".join(f"def function_number_{k}_of_a_long_name(): pass\n" for k in range(40))
        (package / f"mod{n}.py").write_text(body)
    index = CodeIndex()
    out = symbols(root, index)
    assert len(out) < 13_000
    assert "more files with symbols not shown; call symbols with a narrower path" in out
    assert "pkg1 (400)" in out
    one = symbols(root, index, path="pkg0/mod0.py")
    assert one.splitlines()[0] == "pkg0/mod0.py" and len(one.splitlines()) == 41
    with pytest.raises(ToolError, match="not a source file"):
        (root / "notes.txt").write_text("x")
        symbols(root, index, path="notes.txt")


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("a.c", "int main(void) {\n  int x = ;\n  return 0;\n}\n", 2),
        ("a.go", "package a\n\nfunc f() {\n\treturn (\n}\n", 4),
        ("a.ts", "const x: number = 1;\nfunction f( {\n}\n", 2),
        ("a.rs", "fn main() {\n    let x = 1\n    let y = 2;\n}\n", 2),
        ("A.java", "class A {\n  void f() {\n    int x = 1\n  }\n}\n", 3),
        ("a.js", "function f() {\n  return [1, 2;\n}\n", 2),
        ("a.cpp", "class A {\n  int f() { return 1 }\n};\n", 2),
        ("a.py", "def f(:\n    pass\n", 1),
    ],
)
def test_parse_errors_point_at_the_line(name, text, line):
    errors = parse_errors(name, text)
    assert errors and errors[0][0] == line, errors
    assert all(isinstance(message, str) and message for _, message in errors)


def test_parse_errors_of_good_and_unknown_files():
    for source in SOURCES:
        assert parse_errors(source.name, source.text) == [], source.name
    assert parse_errors("notes.txt", "{{{ not code") == []
    # A header with C++ in it is not an error: .h is tried as C, then C++.
    assert parse_errors("a.h", "class A {\n public:\n  int f();\n};\n") == []
    assert parse_errors("b.h", "struct s { int new; };\n") == []


def test_the_grammars_come_with_the_wheel_not_the_network():
    """Parsing every language in the bwrap sandbox, which has no network: a grammar package
    that downloads on first use fails here."""
    languages = sorted(set(EXTENSIONS.values()))
    code = (
        "from tree_sitter_language_pack import get_parser\n"
        f"for name in {languages!r}:\n"
        "    assert get_parser(name).parse(b'x').root_node is not None, name\n"
        "print('parsed', len(" + repr(languages) + "))\n"
    )
    import asyncio

    result = asyncio.run(
        open_sandbox("bwrap").exec([sys.executable, "-c", code], workdir=Path.cwd(), timeout_s=120)
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"parsed {len(languages)}"


def test_references_stop_at_a_cap_and_say_so(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    for name in ("a.py", "b.py", "c.py"):
        (root / name).write_text("value = 0\n" + "value += 1\n" * 149)
    out = references(root, CodeIndex(), "value").splitlines()
    assert out[0].startswith("300+ lines using 'value' in 2+ files")
    assert len(out) == 1 + 200 + 1
    assert out[-1] == (
        "[stopped at 200 lines: 1 more files contain the word and were not "
        "checked; give a narrower path]"
    )
    (root / "c.py").unlink()
    out = references(root, CodeIndex(), "value").splitlines()
    assert out[0].startswith("300 lines using 'value' in 2 files")
    assert out[-1] == "[stopped at 200 lines: 100 more lines not shown; give a narrower path]"
