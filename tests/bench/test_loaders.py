"""Loading suites: each layout read as the issue fixes it, and each kind of malformed task
skipped with an error naming the file and what is wrong."""

import json
import shutil

import pytest

from opensage.bench.dockerfile import plan
from opensage.bench.poc import PocTask, unpack
from opensage.bench.suite import kind_of, load_suite
from opensage.bench.swe import SweTask
from opensage.bench.tasks import Broken, MalformedTask
from opensage.bench.terminal import TerminalTask
from opensage.errors import ConfigError

from .fixtures import poc_task, swe_task, terminal_task


def only(suite):
    assert len(suite.tasks) + len(suite.broken) == 1
    return (suite.tasks or suite.broken)[0]


def broken(path):
    loaded = only(load_suite(path))
    assert isinstance(loaded, Broken), loaded
    return loaded


def test_a_terminal_task_is_read_as_harbor_lays_it_out(tmp_path):
    task = only(load_suite(terminal_task(tmp_path, agent_s=12, verifier_s=34)))
    assert isinstance(task, TerminalTask) and task.kind == "terminal" and task.id == "upper"
    assert (task.agent_timeout_s, task.verifier_timeout_s) == (12, 34)
    assert task.prompt.startswith("Write the words")
    assert task.plan.workdir == "/app" and task.plan.base == "ubuntu:24.04"
    assert task.plan.env == {"GREETING": "hello", "WHO": "the world"}
    assert [(c.sources, c.dest) for c in task.plan.copies] == [
        (["greet.txt"], "/app/greet.txt"),
        (["data/"], "/data/"),
    ]
    assert task.runs_in_bwrap


def test_an_swe_instance_is_read_with_swe_bench_fields(tmp_path):
    task = only(load_suite(swe_task(tmp_path)))
    assert isinstance(task, SweTask) and task.kind == "swe"
    assert task.instance_id == "demo__calc-calc-1" and task.prompt.startswith("add(2, 3)")
    assert task.fail_to_pass == ["tests/test_add.py::test_add", "tests/test_add.py::test_add_zero"]
    assert task.pass_to_pass == ["tests/test_sub.py::test_sub"]
    assert task.test_cmd == "python -m pytest" and task.patch.startswith("diff --git a/calc.py")
    # SWE-bench's own rows hold the test lists as JSON-encoded strings.
    again = only(load_suite(swe_task(tmp_path, "calc-2", json_string_ids=True)))
    assert again.fail_to_pass == task.fail_to_pass and again.pass_to_pass == task.pass_to_pass


@pytest.mark.parametrize("archive", [False, True])
def test_a_poc_task_is_read_from_archives_or_folders(tmp_path, archive):
    task = only(load_suite(poc_task(tmp_path, archive=archive, args='args = ["{poc}"]')))
    assert isinstance(task, PocTask) and task.kind == "poc"
    assert task.binary == "out/reader" and task.args == ["{poc}"]
    assert task.sanitizers == ["address", "undefined"] and task.agent_timeout_s == 60
    assert task.source("vul").name == ("repo-vul.tar.gz" if archive else "repo-vul")
    assert task.source("fix") is not None


def test_an_archive_of_one_folder_unpacks_to_that_folder(tmp_path):
    task = poc_task(tmp_path, archive=True)
    unpack(task / "repo-vul.tar.gz", tmp_path / "src")
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == ["main.c", "parse.c", "parse.h"]


def test_an_archive_that_escapes_is_refused(tmp_path):
    import io
    import tarfile

    bad = tmp_path / "repo-vul.tar.gz"
    with tarfile.open(bad, "w:gz") as archive:
        info = tarfile.TarInfo("../escaped")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(MalformedTask, match="repo-vul.tar.gz: cannot be extracted"):
        unpack(bad, tmp_path / "out" / "src")
    assert not (tmp_path / "out" / "escaped").exists()


def test_kinds_are_told_by_what_a_folder_holds(tmp_path):
    assert kind_of(terminal_task(tmp_path)) == "terminal"
    assert kind_of(swe_task(tmp_path)) == "swe"
    assert kind_of(poc_task(tmp_path)) == "poc"
    (tmp_path / "notes").mkdir()
    assert kind_of(tmp_path / "notes") is None


def test_a_suite_loads_every_task_and_keeps_the_broken_apart(tmp_path):
    terminal_task(tmp_path)
    swe_task(tmp_path)
    poc_task(tmp_path)
    bad = swe_task(tmp_path, "calc-bad")
    (bad / "instance.json").write_text("{not json")
    (tmp_path / "_shared").mkdir()  # not a task: skipped silently
    (tmp_path / "README.md").write_text("a suite")
    suite = load_suite(tmp_path)
    assert sorted(t.id for t in suite.tasks) == ["calc-1", "reader", "upper"]
    assert [(b.id, b.error.file) for b in suite.broken] == [("calc-bad", "instance.json")]
    assert "not valid JSON" in str(suite.broken[0].error)


def test_a_missing_suite_or_an_empty_one_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not a folder"):
        load_suite(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="holds no task folders"):
        load_suite(tmp_path)


TERMINAL_BREAKS = [
    ("instruction.md", lambda t: (t / "instruction.md").unlink(), "missing"),
    ("instruction.md", lambda t: (t / "instruction.md").write_text("  \n"), "is empty"),
    ("task.toml", lambda t: (t / "task.toml").write_text("[agent\n"), "not valid TOML"),
    (
        "task.toml",
        lambda t: (t / "task.toml").write_text("[agent]\ntimeout_sec = -3\n"),
        "[agent] timeout_sec must be a positive number of seconds",
    ),
    (
        "task.toml",
        lambda t: (t / "task.toml").write_text('[verifier]\ntimeout_sec = "x"\n'),
        "[verifier] timeout_sec must be a positive",
    ),
    ("environment/Dockerfile", lambda t: (t / "environment" / "Dockerfile").unlink(), "missing"),
    (
        "environment/Dockerfile",
        lambda t: (t / "environment" / "Dockerfile").write_text("WORKDIR /app\n"),
        "does not start with FROM",
    ),
    (
        "environment/Dockerfile",
        lambda t: (t / "environment" / "Dockerfile").write_text("FROM x\nFETCH y\n"),
        "line 2: FETCH is not a Dockerfile instruction",
    ),
    (
        "environment/Dockerfile",
        lambda t: (t / "environment" / "Dockerfile").write_text("FROM x\nCOPY gone.txt /app/\n"),
        "COPY gone.txt: no such file",
    ),
    (
        "environment/Dockerfile",
        lambda t: (t / "environment" / "Dockerfile").write_text("FROM x\nCOPY ../x /app/\n"),
        "outside the build context",
    ),
    ("tests/test.sh", lambda t: shutil.rmtree(t / "tests"), "missing"),
]


@pytest.mark.parametrize(("file", "damage", "problem"), TERMINAL_BREAKS)
def test_malformed_terminal_tasks_name_the_file_and_the_problem(tmp_path, file, damage, problem):
    task = terminal_task(tmp_path)
    damage(task)
    found = broken(task)
    assert found.kind == "terminal" and found.error.file == file
    assert problem in found.error.problem, found.error


def _instance(task, **changes):
    data = json.loads((task / "instance.json").read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    (task / "instance.json").write_text(json.dumps(data))


SWE_BREAKS = [
    ("instance.json", lambda t: _instance(t, FAIL_TO_PASS=None), "FAIL_TO_PASS is missing"),
    ("instance.json", lambda t: _instance(t, FAIL_TO_PASS=[]), "FAIL_TO_PASS is empty"),
    (
        "instance.json",
        lambda t: _instance(t, PASS_TO_PASS="[oops"),
        "PASS_TO_PASS is a string that is not a JSON list",
    ),
    (
        "instance.json",
        lambda t: _instance(t, PASS_TO_PASS=[1, 2]),
        "PASS_TO_PASS must be a list of strings",
    ),
    (
        "instance.json",
        lambda t: _instance(t, problem_statement=None),
        "problem_statement is missing",
    ),
    (
        "instance.json",
        lambda t: _instance(t, test_patch=""),
        "test_patch must be a non-empty string",
    ),
    (
        "instance.json",
        lambda t: (t / "instance.json").write_text("[1, 2]"),
        "must hold a JSON object",
    ),
    ("repo/", lambda t: shutil.rmtree(t / "repo"), "missing"),
]


@pytest.mark.parametrize(("file", "damage", "problem"), SWE_BREAKS)
def test_malformed_swe_tasks_name_the_file_and_the_problem(tmp_path, file, damage, problem):
    task = swe_task(tmp_path)
    damage(task)
    found = broken(task)
    assert found.kind == "swe" and found.error.file == file
    assert problem in found.error.problem, found.error


def _toml(task, old, new):
    path = task / "task.toml"
    path.write_text(path.read_text().replace(old, new))


POC_BREAKS = [
    (
        "task.toml",
        lambda t: _toml(t, "[build]\ncommand", "[build]\nkommand"),
        "[build] command is missing",
    ),
    ("task.toml", lambda t: _toml(t, "[poc]", "[proof]"), "has no [poc] table"),
    (
        "task.toml",
        lambda t: _toml(t, 'binary = "out/reader"', 'binary = "../reader"'),
        "must be a path inside the source",
    ),
    (
        "task.toml",
        lambda t: _toml(t, 'binary = "out/reader"', 'binary = "r"\nargs = "{poc}"'),
        "[poc] args must be a list of strings",
    ),
    ("repo-vul.tar.gz", lambda t: shutil.rmtree(t / "repo-vul"), "missing"),
]


@pytest.mark.parametrize(("file", "damage", "problem"), POC_BREAKS)
def test_malformed_poc_tasks_name_the_file_and_the_problem(tmp_path, file, damage, problem):
    task = poc_task(tmp_path)
    damage(task)
    found = broken(task)
    assert found.kind == "poc" and found.error.file == file
    assert problem in found.error.problem, found.error


def test_a_folder_that_is_no_task_is_reported_as_such(tmp_path):
    terminal_task(tmp_path)
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "notes.txt").write_text("hello")
    suite = load_suite(tmp_path)
    assert [b.id for b in suite.broken] == ["stray"]
    assert "not a task folder" in suite.broken[0].error.problem


def test_dockerfiles_are_read_as_docker_reads_them(tmp_path):
    text = (
        "# comment\nFROM --platform=linux/amd64 python:3.12-slim AS base\n"
        'ENV A=1 B="two words"\nENV OLD the rest of the line\n'
        'WORKDIR /srv\nWORKDIR app\nCOPY ["a b.txt", "./"]\n'
        "COPY --chown=1000 src/ lib/\nENV HOME_DIR=$A/x\nLABEL x=y\n"
        'COPY one.txt \\\n     two.txt /opt/$A/\nCMD ["bash"]\n'
    )
    found = plan(text, tmp_path)
    assert found.base == "python:3.12-slim" and found.workdir == "/srv/app"
    assert found.env == {
        "A": "1",
        "B": "two words",
        "OLD": "the rest of the line",
        "HOME_DIR": "1/x",
    }
    assert [(c.sources, c.dest) for c in found.copies] == [
        (["a b.txt"], "/srv/app/"),
        (["src/"], "/srv/app/lib/"),
        (["one.txt", "two.txt"], "/opt/1/"),
    ]
    assert found.needs_build == []


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("RUN apt-get install -y opensage-no-such-package", "RUN"),
        ("RUN make -C /app", "RUN"),
        ('RUN ["apt-get", "update"]', "RUN"),
        ("ADD x.tar /app/", "ADD"),
        ("ARG VERSION=1", "ARG"),
        ("USER nobody", "USER"),
        ("COPY --from=builder /out /app/", "--from"),
        ("FROM other AS second", "multi-stage"),
    ],
)
def test_what_needs_a_real_build_is_named(tmp_path, line, why):
    found = plan(f"FROM base\nWORKDIR /app\n{line}\n", tmp_path)
    assert len(found.needs_build) == 1 and why in found.needs_build[0]


@pytest.mark.parametrize(
    "line",
    [
        "RUN apt-get update && apt-get install -y --no-install-recommends git bash",
        "RUN DEBIAN_FRONTEND=noninteractive apt-get -qq install -y git; rm -rf /var/cache/apt",
        "RUN pip install --no-cache-dir pytest",
    ],
)
def test_a_run_line_installing_only_what_the_host_has_needs_no_build(tmp_path, line):
    found = plan(f"FROM base\nWORKDIR /app\n{line}\n", tmp_path)
    assert found.needs_build == []
    [said] = found.satisfied
    assert said.startswith("line 3: RUN ") and "the host has " in said
    assert "git" in said or "pytest" in said


@pytest.mark.parametrize(
    "line",
    [
        "RUN apt-get install -y git opensage-no-such-package",  # one package the host lacks
        "RUN apt-get install -y git=0.0-opensage",  # a version it does not have
        "RUN pip install pytest==0.0.1",
        "RUN pip install 'pytest>=8'",  # a range: left to a real build
        "RUN pip install -r requirements.txt",
        "RUN apt-get install -y git && make",  # more than installing
        "RUN apt-get install -y git | tee log",
    ],
)
def test_a_run_line_doing_more_than_the_host_has_still_needs_a_build(tmp_path, line):
    found = plan(f"FROM base\nWORKDIR /app\n{line}\n", tmp_path)
    assert found.satisfied == [] and found.needs_build == ["line 3: RUN"]
