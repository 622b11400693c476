from pathrules import IgnoreRules, find

RULES = """
# generated
*.log
!keep.log
out/
/config/local.ini
"""


def test_patterns_in_subdirectories():
    rules = IgnoreRules.parse(RULES)
    assert rules.ignored("logs/app.log")
    assert not rules.ignored("logs/keep.log")
    assert not rules.ignored("logs/app.txt")


def test_directory_rules():
    rules = IgnoreRules.parse(RULES)
    assert rules.ignored("src/out", is_dir=True)
    assert rules.ignored("src/out/x.o")
    assert not rules.ignored("src/out")  # a file named out


def test_anchored_rules():
    rules = IgnoreRules.parse(RULES)
    assert rules.ignored("config/local.ini")
    assert not rules.ignored("app/config/local.ini")


def test_find(tmp_path):
    for rel in ["a/x.py", "a/x.log", "a/out/y.py", "b/keep.log", "b/z.txt"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    rules = IgnoreRules.parse(RULES)
    assert find(str(tmp_path), rules=rules) == ["a/x.py", "b/keep.log", "b/z.txt"]
    assert find(str(tmp_path), include=["**/*.py"], rules=rules) == ["a/x.py"]
