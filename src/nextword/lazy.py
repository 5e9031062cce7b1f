"""Importing on first use: "module:attribute" targets (the registries of model types, commands,
estimators and networks point at their code this way), and optional dependencies that, when
missing, become one line naming the pip extra. Nothing heavy is imported here."""
from __future__ import annotations

from nextword.errors import NextwordError

# where a missing optional dependency is installed from: top-level module -> pip extra
EXTRAS = {"torch": "neural", "matplotlib": "plot", "pyspark": "spark", "fastapi": "serve",
          "uvicorn": "serve"}


def import_optional(module_name: str):
    """importlib.import_module, where a missing optional dependency (torch, matplotlib) becomes a
    one-line error naming the pip extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        root = (error.name or "").split(".")[0]
        if root in EXTRAS:
            raise NextwordError(f"this needs {root}, which is not installed: "
                                f"pip install 'nextword[{EXTRAS[root]}]'") from None
        raise


def resolve(target):
    """"module:Attr.attr" -> the object, importing the module now (see import_optional)."""
    if not isinstance(target, str):             # a class registered directly
        return target.load
    module_name, _, attribute = target.partition(":")
    obj = import_optional(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj
