"""Shell tools: a bash script made into a synthesized tool.

The script declares its parameters in comment lines, and its first other comment line says
what it does:

    # Count the lines of the files matching a pattern.
    # param pattern: str - a glob, e.g. '*.py'
    # param limit: int = 100 - at most this many files
    ls $PATTERN | head -n "$LIMIT" | xargs wc -l

Each parameter reaches the script as an environment variable of its name in capitals. What the
script prints is the result (without its last newline); a non-zero exit status is an error
carrying what it printed to stderr. The script becomes the Python tool that runs it, so a shell
tool is checked, tested, run in the sandbox and kept exactly like any other.
"""

from __future__ import annotations

import json
import re

from opensage.synthesis.signature import SignatureError

PARAM = re.compile(
    r"#\s*param\s+(?P<name>[a-z_][a-z0-9_]*)\s*:\s*(?P<type>str|int|float|bool)"
    r"\s*(?:=\s*(?P<default>\S+))?\s*(?:-\s*(?P<doc>.*))?$"
)
CONVERT = {"str": str, "int": int, "float": float}


def bash_tool_source(script: str) -> str:
    """The Python source of a tool running `script` (see the module's docstring)."""
    params: list[tuple[str, str, str | None, str]] = []
    summary = ""
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.startswith("#!") or not stripped.startswith("#"):
            continue
        if re.match(r"#\s*param\b", stripped):
            found = PARAM.match(stripped)
            if found is None:
                raise SignatureError(
                    f"cannot read {stripped!r}: write '# param NAME: TYPE "
                    "[= DEFAULT] [- what it is]', TYPE one of str, int, "
                    "float, bool"
                )
            params.append((found["name"], found["type"], found["default"], found["doc"] or ""))
        elif not summary:
            summary = stripped.lstrip("#").strip()
    signature = []
    for name, kind, default, _doc in params:
        if default is None:
            signature.append(f"{name}: {kind}")
            continue
        try:
            value = default.lower() == "true" if kind == "bool" else CONVERT[kind](default)
        except ValueError:
            raise SignatureError(
                f"the default of {name!r} ({default}) does not read as {kind}"
            ) from None
        signature.append(f"{name}: {kind} = {value!r}")
    if len(signature) != len({p[0] for p in params}):
        raise SignatureError("each parameter may be declared once")
    ordered = [s for s in signature if "=" not in s] + [s for s in signature if "=" in s]
    docs = "".join(f"\n        {name}: {_safe(doc)}" for name, _, _, doc in params if doc)
    env = ", ".join(f"{name.upper()}=_text({name})" for name, *_ in params)
    return f'''SCRIPT = {json.dumps(script)}


def main({", ".join(ordered)}) -> str:
    """{_safe(summary) or "A shell tool."}{chr(10) + chr(10) + "    Args:" + docs if docs else ""}
    """
    import os
    import subprocess

    env = dict(os.environ{", " + env if env else ""})
    done = subprocess.run(["bash", "-c", SCRIPT, "tool"], env=env, capture_output=True,
                          text=True)
    if done.returncode:
        raise RuntimeError(f"the script exited with status {{done.returncode}}: "
                           f"{{done.stderr.strip()[-2000:]}}")
    return done.stdout.removesuffix("\\n")


def _text(value):
    return str(value).lower() if isinstance(value, bool) else str(value)
'''


def _safe(text: str) -> str:
    """Text that can sit inside the generated docstring."""
    return text.replace("\\", "\\\\").replace('"""', "'''")
