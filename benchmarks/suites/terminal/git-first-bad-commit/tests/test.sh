#!/bin/bash
# Runs the checks of /tests/test_outputs.py and writes the reward (1: all pass, 0: any fails).
# With pytest where the image has it; otherwise each test_ function is run in turn.
mkdir -p /logs/verifier
export PYTHONDONTWRITEBYTECODE=1
cd /app || { echo 0 > /logs/verifier/reward.txt; exit 1; }
if python3 -c "import pytest" 2>/dev/null; then
    python3 -m pytest -q -rA -p no:cacheprovider /tests/test_outputs.py
else
    python3 - <<'PYEOF'
import importlib.util, sys, traceback
spec = importlib.util.spec_from_file_location("test_outputs", "/tests/test_outputs.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
failed = 0
for name in [n for n in vars(module) if n.startswith("test_")]:
    try:
        getattr(module, name)()
        print("PASSED", name)
    except Exception:
        failed += 1
        print("FAILED", name)
        traceback.print_exc()
sys.exit(1 if failed else 0)
PYEOF
fi
if [ $? -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi
