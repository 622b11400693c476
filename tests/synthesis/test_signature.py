import pytest

from opensage.synthesis.bash import bash_tool_source
from opensage.synthesis.signature import SignatureError, parse_tool


def test_schema_description_and_imports_come_from_the_source():
    code = '''
import json, re
from collections import Counter
from typing import Literal

def helper():
    import os.path

def main(text: str, top: int = 3, mode: Literal["words", "chars"] = "words",
         stop: list[str] | None = None, weights: dict[str, float] = {}) -> list:
    """Count the most common words.

    Args:
        text: the text.
        top: how many to return.
    """
'''
    schema, summary, modules = parse_tool(code)
    assert summary == "Count the most common words."
    assert modules == ["collections", "json", "os", "re", "typing"]
    assert schema["required"] == ["text"]
    assert schema["additionalProperties"] is False
    p = schema["properties"]
    assert p["text"] == {"type": "string", "description": "the text."}
    assert p["top"] == {"type": "integer", "description": "how many to return.", "default": 3}
    assert p["mode"] == {"enum": ["words", "chars"], "default": "words"}
    assert p["stop"] == {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
        "default": None,
    }
    assert p["weights"] == {
        "type": "object",
        "additionalProperties": {"type": "number"},
        "default": {},
    }


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("def main(:", "does not parse: line 1"),
        ("def helper(x: int): pass", "must define a top-level function `def main"),
        ("def main(x): pass", "parameter 'x' of main needs a type annotation"),
        ("def main(*args: int): pass", r"cannot take \*args"),
        ("def main(x: int = int('3')): pass", "the default of 'x' must be a literal"),
        ("import os\ndef main(x: os.PathLike): pass", "not one a JSON schema can express"),
    ],
)
def test_unusable_code_is_explained(code, words):
    with pytest.raises(SignatureError, match=words):
        parse_tool(code)


def test_the_source_is_never_executed():
    # Building the schema must not run the code: this would raise (or worse) if it did.
    schema, _, _ = parse_tool("raise SystemExit('ran!')\ndef main(x: int) -> int:\n  return x\n")
    assert schema["required"] == ["x"]


def test_a_bash_script_becomes_a_tool_with_its_declared_parameters():
    source = bash_tool_source(
        '#!/bin/bash\n# Greet someone """politely""".\n'
        "# param who: str - the name\n# param times: int = 2\n"
        '# param loud: bool = true\necho "$WHO $TIMES $LOUD"\n'
    )
    schema, summary, _ = parse_tool(source)
    assert summary == "Greet someone '''politely'''."
    assert schema["required"] == ["who"]
    assert schema["properties"]["times"] == {"type": "integer", "default": 2}
    assert schema["properties"]["loud"] == {"type": "boolean", "default": True}
    assert schema["properties"]["who"]["description"] == "the name"
    for bad, words in (
        ("# param n: int = many\n", r"\(many\) does not read as int"),
        ("# param n: int\n# param n: str\n", "declared once"),
        ("# param n: path\n", "TYPE one of"),
    ):
        with pytest.raises(SignatureError, match=words):
            bash_tool_source(bad)
