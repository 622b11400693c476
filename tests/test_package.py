"""The package as users meet it: its version, its types, and imports that work in any order."""

import json
import pkgutil
import subprocess
import sys
from importlib import resources

from typer.testing import CliRunner

import opensage
from opensage.cli import app
from opensage.version import __version__


def test_the_command_line_prints_the_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"opensage {__version__}"


def test_the_package_says_it_is_typed():
    assert (resources.files("opensage") / "py.typed").is_file()


def test_the_package_names_its_api_and_loads_it_on_first_use():
    assert set(opensage.__all__) == {*opensage._WHERE, "__version__"}
    assert {"Agent", "Kit", "RunContext", "tool"} <= set(opensage.__all__)
    assert opensage.Agent.__name__ == "Agent" and callable(opensage.tool)


IMPORT_EACH_FIRST = """
import importlib, json, pkgutil, sys
import opensage
names = sorted(m.name for m in pkgutil.walk_packages(opensage.__path__, "opensage."))
failed = {}
for name in names:
    for loaded in [m for m in sys.modules if m == "opensage" or m.startswith("opensage.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = repr(exc)
print(json.dumps({"tried": len(names), "failed": failed}))
"""


def test_every_module_imports_first_without_a_cycle():
    # A cycle shows when its modules are imported in an unlucky order: try each one first.
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FIRST], capture_output=True, text=True, timeout=300
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["tried"] > 40 and report["failed"] == {}


def test_the_memory_store_does_not_import_the_agent_loop():
    code = (
        "import sys; import opensage.memory.store, opensage.sandbox, opensage.models; "
        "print(sorted(m for m in sys.modules if m in ('opensage.core.loop', "
        "'opensage.agent')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_modules_found_by_the_walk_include_the_kits():
    names = {m.name for m in pkgutil.walk_packages(opensage.__path__, "opensage.")}
    assert {"opensage.kits.files", "opensage.errors", "opensage.version"} <= names
