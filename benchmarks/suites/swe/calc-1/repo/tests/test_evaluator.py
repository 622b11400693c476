import pytest

from minicalc import CalcError, evaluate
from minicalc.cli import main


def test_arithmetic():
    assert evaluate("2 * (3 + x) ** 2", {"x": 1}) == 32
    assert evaluate("7 // 2 + 7 % 2") == 4
    assert evaluate("1.5e2 / 3") == 50.0


def test_functions():
    assert evaluate("max(1, 7 % 4) / 2") == 1.5
    assert evaluate("round(sqrt(2), 3)") == 1.414
    assert evaluate("abs(-4)") == 4


def test_errors():
    with pytest.raises(CalcError, match="division by zero"):
        evaluate("1 / (2 - 2)")
    with pytest.raises(CalcError, match="unknown name 'y'"):
        evaluate("y + 1")
    with pytest.raises(CalcError, match="unknown function"):
        evaluate("exp(1)")
    with pytest.raises(CalcError, match="exponent too large"):
        evaluate("10 ** 100000")


def test_cli(capsys):
    assert main(["2 * x", "x=4"]) == 0
    assert capsys.readouterr().out == "8\n"
    assert main(["1 +"]) == 1
    assert "error:" in capsys.readouterr().err
