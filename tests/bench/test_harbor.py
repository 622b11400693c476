"""The Harbor adapter (opensage.integrations.harbor) is tested with Harbor's own classes and its
`harbor run`, which need Python 3.12: in their own environment, .venv-harbor, made by
scripts/setup-harbor.sh. This test runs those checks there (tests/harbor_inner/adapter_checks.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv-harbor" / "bin" / "python"
CHECKS = REPO / "tests" / "harbor_inner" / "adapter_checks.py"


def test_opensage_imports_without_harbor_and_says_how_to_get_the_agent() -> None:
    code = (
        "import opensage.integrations.harbor as h\n"
        "assert h.opensage_model('openai/gpt-4o') == 'openai:gpt-4o'\n"
        "h.OpenSageAgent"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "ImportError: OpenSageAgent runs in Harbor" in run.stderr, run.stderr
    assert "scripts/setup-harbor.sh" in run.stderr


@pytest.mark.slow
def test_the_harbor_adapter_passes_its_checks_under_harbor() -> None:
    if not PYTHON.exists():
        pytest.fail(
            f"{PYTHON} is missing: the Harbor adapter's checks run in their own environment "
            "(Harbor needs Python 3.12 or newer). Make it with scripts/setup-harbor.sh"
        )
    run = subprocess.run(
        [str(PYTHON), "-m", "pytest", str(CHECKS), "-q", "-p", "no:cacheprovider"],
        cwd=REPO,
        # LiteLLM, which Harbor imports, would otherwise try to download its price list.
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout[-3000:]
