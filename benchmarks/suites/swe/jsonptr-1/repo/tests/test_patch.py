import pytest

from jsonptr import PatchError, apply_patch


def test_add_replace_remove():
    doc = {"a": [1, 2], "b": {"c": 3}}
    out = apply_patch(doc, [
        {"op": "add", "path": "/a/-", "value": 3},
        {"op": "add", "path": "/a/0", "value": 0},
        {"op": "replace", "path": "/b/c", "value": 4},
        {"op": "remove", "path": "/b/c"},
    ])
    assert out == {"a": [0, 1, 2, 3], "b": {}}
    assert doc == {"a": [1, 2], "b": {"c": 3}}


def test_replace_root():
    assert apply_patch({"a": 1}, [{"op": "replace", "path": "", "value": [1]}]) == [1]


def test_test_operation():
    apply_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 1}])
    with pytest.raises(PatchError, match="test failed"):
        apply_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])


def test_errors_name_the_operation():
    with pytest.raises(PatchError, match=r"operation 1 \(remove\)"):
        apply_patch({"a": 1}, [{"op": "remove", "path": "/a"}, {"op": "remove", "path": "/a"}])
