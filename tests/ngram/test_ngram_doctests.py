"""The docstring examples of the n-gram modules are run, so they stay true."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["model", "kneser_ney", "witten_bell", "absolute", "katz", "stupid_backoff"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"nextword.ngram.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
