"""benchmarks/neural_bench.py --set FIELD=VALUE: JSON where it parses, else the plain string."""
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "neural_bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("neural_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("item, expected", [
    ("softmax=full", ("softmax", "full")),          # starts with f, but is not JSON false
    ("precision=fp32", ("precision", "fp32")),
    ("optimizer=nadamw", ("optimizer", "nadamw")),  # starts with n, not null
    ("tie=true", ("tie", True)),
    ("schedule=plateau", ("schedule", "plateau")),
    ("lr=0.002", ("lr", 0.002)),
    ("threads=null", ("threads", None)),
    ("init=xavier", ("init", "xavier")),
])
def test_set_values(bench, item, expected):
    assert bench.parse_setting(item) == expected
