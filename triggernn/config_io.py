"""Reading YAML configs (one loader for every kind: run, scan, lecture, reference) and pydantic's errors as
one line per problem, each naming its key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import ConfigError

__all__ = ["UniqueKeyLoader", "config_kind", "format_validation_error", "read_yaml"]


def format_validation_error(err: ValidationError, source: str) -> str:
    """Pydantic's errors as one line per problem (one line in all when there is one), each naming the key."""
    problems = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "<top level>"
        if e["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}': remove it or check its spelling")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            if not e["loc"]:  # a rule across sections: the message names its keys
                problems.append(msg)
            elif isinstance(e.get("input"), dict):  # a rule of a section: its keys, not the whole section
                problems.append(f"'{key}': {msg}")
            else:
                problems.append(f"'{key}' = {e.get('input')!r}: {msg}")
    if len(problems) == 1:
        return f"invalid configuration in {source}: {problems[0]}"
    return "\n".join([f"invalid configuration in {source}:", *(f"  - {p}" for p in problems)])


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML itself keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is given twice: keep one", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def config_kind(path: str | os.PathLike) -> str:
    """What a YAML config is for, by its top-level keys: "reference" (``reference:``), "scan" (``grid:``, ``base:``),
    "lecture" (``example:``) or "run"."""
    tree = read_yaml(path)
    if isinstance(tree, dict):
        for key, kind in (
            ("reference", "reference"),
            ("grid", "scan"),
            ("base", "scan"),
            ("example", "lecture"),
        ):
            if key in tree:
                return kind
    return "run"


def read_yaml(path: str | os.PathLike) -> Any:
    """The YAML document in ``path``; :class:`ConfigError` for a missing, binary or malformed file, or a
    duplicated key."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"config file '{path}' is a folder: pass the path of a YAML file inside it")
    if not path.is_file():
        raise ConfigError(
            f"config file '{path}' does not exist: pass the path of a YAML file, e.g. configs/jet_dense.yaml"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a text file (not UTF-8): pass a YAML config") from None
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from None
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{path} is not valid YAML{where}: {problem}") from None
