"""Reading YAML configs (one loader for every kind: run, scan, lecture, reference) and pydantic's errors as
one line per problem, each naming its key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import ConfigError

__all__ = [
    "VERB_OF_KIND",
    "UniqueKeyLoader",
    "config_kind",
    "format_validation_error",
    "kind_of",
    "read_yaml",
    "require_kind",
]


def format_validation_error(err: ValidationError, source: str) -> str:
    """Pydantic's errors as one line per problem (one line in all when there is one), each naming the key."""
    problems = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "<top level>"
        if e["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}': remove it or check its spelling")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "model_type":  # "a valid dictionary or instance of VerifyConfig": a section
                msg = "a section is a mapping of its keys (or left out)"
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
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base`: merged keys may be overridden below
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is given twice: keep one", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


#: The verb each kind of config is for.
VERB_OF_KIND = {"run": "triggernn run", "scan": "triggernn scan", "reference": "triggernn reference",
                "lecture": "triggernn lecture"}  # fmt: skip


def kind_of(tree: Any) -> str:
    """What a parsed YAML config is for, by its top-level keys: "reference" (``reference:``), "scan" (``grid:``,
    ``base:``), "lecture" (``example:``) or "run"."""
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


def config_kind(path: str | os.PathLike) -> str:
    """What the YAML config at ``path`` is for (:func:`kind_of`)."""
    return kind_of(read_yaml(path))


def require_kind(tree: Any, path: str | os.PathLike, kind: str) -> None:
    """Refuse a config of another verb (a scan config given to ``run``, a run config as a scan's grid...) in one
    line naming the verb it is for, instead of the schema's list of what this kind lacks."""
    found = kind_of(tree)
    if found != kind:
        raise ConfigError(
            f"{path} is a {found} config, not a {kind} config: run it with `{VERB_OF_KIND[found]} {path}`"
        )


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
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str) -> Any:
    """The YAML document ``text`` (from ``source``: a file's path, or a flag's inline value), read by the one
    loader (a duplicated key refused); :class:`ConfigError` naming the line and column of malformed YAML."""
    try:
        return yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{source} is not valid YAML{where}: {problem}") from None
