"""benchmarks/arpa_agreement.py: two ARPA files compared by n-gram sets and values, whatever the
order of their entries."""
import importlib.util
import random
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "arpa_agreement.py"

MODEL = """\\data\\
ngram 1=4
ngram 2=3

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t-0.25
-0.5\t</s>
-0.75\ta\t-0.125

\\2-grams:
-0.3\t<s> a
-0.2\ta </s>
-0.4\ta a

\\end\\
"""


@pytest.fixture(scope="module")
def agreement():
    spec = importlib.util.spec_from_file_location("arpa_agreement", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.agreement


def write(path: Path, text: str, shuffle: bool = False) -> Path:
    lines = text.split("\n")
    if shuffle:                     # entries of each section in another order
        body = [i for i, line in enumerate(lines) if "\t" in line]
        for start, stop in ((body[0], body[3] + 1), (body[4], body[-1] + 1)):
            block = lines[start:stop]
            random.Random(0).shuffle(block)
            lines[start:stop] = block
    path.write_text("\n".join(lines))
    return path


def test_the_same_model_in_another_order_agrees(agreement, tmp_path):
    other = MODEL.replace("-0.5\t</s>", "-0.5\t</s>\t0")        # an explicit zero backoff
    line = agreement(write(tmp_path / "a", MODEL), write(tmp_path / "b", other, shuffle=True))
    assert line == ("same n-gram sets (7 entries); max |Δ log10 p| 0.00e+00, "
                    "max |Δ log10 bo| 0.00e+00; 0 values differ by more than 1e-06")


def test_differences_in_values_are_measured(agreement, tmp_path):
    other = (MODEL.replace("-0.4\ta a", "-0.400002\ta a")             # 2e-6 in log p
             .replace("-0.75\ta\t-0.125", "-0.75\ta\t-0.1250005"))    # 5e-7 in log bo
    line = agreement(write(tmp_path / "a", MODEL), write(tmp_path / "b", other))
    assert line.startswith("same n-gram sets (7 entries); max |Δ log10 p| 2.00e-06, "
                           "max |Δ log10 bo| 5.00e-07; 1 values differ")


def test_a_missing_ngram_and_a_minus_99_on_one_side_are_reported(agreement, tmp_path):
    other = MODEL.replace("-0.4\ta a\n", "").replace("-99\t<s>", "-1.5\t<s>")
    line = agreement(write(tmp_path / "a", MODEL), write(tmp_path / "b", other))
    assert "1-grams: log p of -99 or -inf on one side only" in line
    assert "2-grams differ (3 against 2; 1 only in the first)" in line


def test_an_entry_listed_twice_is_reported(agreement, tmp_path):
    other = MODEL.replace("ngram 2=3", "ngram 2=4").replace("-0.4\ta a\n", "-0.4\ta a\n-0.4\ta a\n")
    line = agreement(write(tmp_path / "a", MODEL), write(tmp_path / "b", other))
    assert "2-grams: two entries of one file with one hash (a duplicate or a collision)" in line
