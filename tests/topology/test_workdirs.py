import pytest

from opensage.topology.workdirs import apply_changes, copy_workdir


def test_changes_are_applied_including_file_and_folder_swaps(tmp_path):
    target = tmp_path / "work"
    (target / "a").mkdir(parents=True)
    (target / "a" / "x.txt").write_text("old")
    (target / "was_file").write_text("f")
    (target / "gone.txt").write_text("bye")
    base = copy_workdir(target, "base")
    member = copy_workdir(base, "m")
    (member / "a" / "x.txt").write_text("new")
    (member / "was_file").unlink()
    (member / "was_file").mkdir()
    (member / "was_file" / "inner.txt").write_text("in")
    (member / "gone.txt").unlink()
    changed, deleted = apply_changes(base, member, target)
    assert sorted(changed) == ["a/x.txt", "was_file/inner.txt"] and deleted == ["gone.txt"]
    assert (target / "a" / "x.txt").read_text() == "new"
    assert (target / "was_file" / "inner.txt").read_text() == "in"
    assert not (target / "gone.txt").exists()


def test_nothing_is_written_through_a_symlink_planted_in_the_work_dir(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keys").write_text("host keys")
    target = tmp_path / "work"
    target.mkdir()
    base = copy_workdir(target, "base")
    member = copy_workdir(base, "m")
    (member / "sub").mkdir()
    (member / "sub" / "keys").write_text("attacker")
    (target / "sub").symlink_to(outside)  # planted in the real work dir meanwhile
    with pytest.raises(ValueError, match="is a symlink"):
        apply_changes(base, member, target)
    assert (outside / "keys").read_text() == "host keys"
