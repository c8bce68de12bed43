"""scenario.yaml (or a workbook's `scenario` sheet): parsed with the line of each key, validated.

Checked against optim.schema; each problem names the dotted key path and its line, with a
suggestion for a near-miss key.
"""

from __future__ import annotations

import re
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from optim.problems import Problem, Problems, nearest, suggest
from optim.schema import ROLE_KEYS, ScenarioConfig


@dataclass
class Document:
    """scenario.yaml as data, with the line (or sheet row) of each key path."""

    file: str
    data: Any
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    def line_of(self, path: Sequence[object]) -> int | None:
        parts = tuple(str(p) for p in path)
        for end in range(len(parts), 0, -1):
            if parts[:end] in self.lines:
                return self.lines[parts[:end]]
        return None


def parse_yaml(file: str, text: str, problems: Problems) -> Document | None:
    """The text of scenario.yaml as data, with the line of each key; None when unreadable."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[tuple[str, ...], int] = {}
        if node is not None:
            # before constructing: construction merges `<<:` keys into the nodes
            _index_lines(file, node, (), lines, problems)
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        row = None if mark is None else mark.line + 1
        what = error.problem or error.context or "cannot be read"
        if what.startswith("but ") and error.context:  # "expected a single document ... but"
            what = f"{error.context} {what}"
        problems.add(file, f"invalid YAML: {what}", row)
        return None
    except yaml.YAMLError as error:
        problems.add(file, f"invalid YAML: {error}")
        return None
    finally:
        loader.dispose()
    if data is None:
        problems.add(file, "is empty: it needs at least `directions`")
        return None
    if not isinstance(data, dict):
        problems.add(file, "must be a mapping of keys (company, directions, roles, ...)")
        return None
    return Document(file, data, lines)


def _index_lines(
    file: str, node: yaml.Node, path: tuple[str, ...], lines: dict, problems: Problems
) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            child = (*path, str(key_node.value))
            line = key_node.start_mark.line + 1
            if child in lines:
                problems.add(
                    file,
                    f"key {child[-1]!r} appears twice (lines {lines[child]} and {line})",
                    line,
                    _dotted(child),
                )
            lines[child] = line
            _index_lines(file, value_node, child, lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            lines[(*path, str(position))] = item.start_mark.line + 1
            _index_lines(file, item, (*path, str(position)), lines, problems)


def _dotted(path: Sequence[object]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):  # a position in a list
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validate_config(document: Document, problems: Problems) -> ScenarioConfig | None:
    """scenario.yaml checked against optim.schema; None when it has problems (all reported)."""
    data = document.data
    found = len(problems.items)
    _check_free_keys(document, problems)
    _check_controllability(document, problems)
    try:
        config = ScenarioConfig.model_validate(data)
    except ValidationError as error:
        config = None
        # A key reported above with its suggestion makes pydantic's check of the mapping
        # that holds it ("by_direction names unknown directions") a repetition.
        reported = [f"{p.column}." for p in problems.items[found:]]
        for problem in _pydantic_problems(document, error):
            column = f"{problem.column}."
            if not any(key.startswith(column) for key in reported):
                problems.add(problem.file, problem.message, problem.row, problem.column)
    return None if len(problems.items) > found else config


def _check_free_keys(document: Document, problems: Problems) -> None:
    """Keys of free-form mappings that must name something known (roles, directions, KPIs).

    Unknown role keys are taken out of the data so that pydantic's own check of them does
    not report them a second time, without a suggestion.
    """
    data = document.data
    directions = data.get("directions")
    directions = [str(d) for d in directions] if isinstance(directions, list) else None
    kpis = _at(data, ("motivation", "kpis"))
    checks: list[tuple[tuple[str, ...], Sequence[str] | None]] = [
        (("roles",), ROLE_KEYS),
        (("plan", "by_direction"), directions),
        (("coverage", "max_clients"), ROLE_KEYS),
        (("motivation", "controllability"), ROLE_KEYS),
    ]
    controllability = _at(data, ("motivation", "controllability"))
    if isinstance(controllability, dict) and isinstance(kpis, dict) and kpis:
        kpi_names = [str(k) for k in kpis]
        checks += [(("motivation", "controllability", str(r)), kpi_names) for r in controllability]
    for path, valid in checks:
        mapping = _at(data, path)
        if valid is None or not isinstance(mapping, dict):
            continue
        for key in [k for k in mapping if str(k) not in valid]:
            key_path = (*path, str(key))
            problems.add(
                document.file,
                f"unknown key {key!r} in {_dotted(path)}{suggest(str(key), valid)}",
                document.line_of(key_path),
                _dotted(key_path),
            )
            if path == ("roles",):
                del mapping[key]


def _check_controllability(document: Document, problems: Problems) -> None:
    """How much a role drives a KPI is a share, 0..1 (the schema takes any number)."""
    roles = _at(document.data, ("motivation", "controllability"))
    if not isinstance(roles, dict):
        return
    for role, shares in roles.items():
        for kpi, share in shares.items() if isinstance(shares, dict) else ():
            is_number = isinstance(share, int | float) and not isinstance(share, bool)
            if is_number and not 0 <= share <= 1:
                path = ("motivation", "controllability", str(role), str(kpi))
                message = f"must be between 0 and 1 (got {share})"
                problems.add(document.file, message, document.line_of(path), _dotted(path))


def _at(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _pydantic_problems(document: Document, error: ValidationError) -> list[Problem]:
    out: list[Problem] = []
    typos: set[tuple[tuple[object, ...], str]] = set()  # (parent, suggested key)
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        kind, message = item["type"], _plain(item["msg"])
        path = tuple(p for p in loc if p != "[key]")
        if kind == "extra_forbidden":
            parent, key = path[:-1], str(path[-1])
            valid = _field_names(parent)
            where = f" in {_dotted(parent)}" if parent else ""
            typos.add((parent, nearest(key, valid) or ""))
            message = f"unknown key {key!r}{where}{suggest(key, valid)}"
        elif kind == "missing":
            message = f"missing key {str(path[-1])!r}" + (
                f" in {_dotted(path[:-1])}" if path[:-1] else ""
            )
        elif "[key]" in loc:  # a mapping whose keys are fixed, like coverage.allowed
            options = re.findall(r"'([^']*)'", item.get("ctx", {}).get("expected", ""))
            key = str(path[-1])
            message = f"unknown key {key!r} in {_dotted(path[:-1])}{suggest(key, options)}"
            kind = "unknown_key"
        elif kind == "value_error":
            path = _path_in_message(document, path, message)
        else:
            message += f" (got {_short(item.get('input'))})"
        if kind == "literal_error":
            options = re.findall(r"'([^']*)'", item.get("ctx", {}).get("expected", ""))
            hint = suggest(str(item.get("input")), options, listing=0)
            message = message.removesuffix(".") + hint
        out.append(Problem(document.file, message, document.line_of(path), _dotted(path) or None))
    # `revenue_targt` is reported as unknown with its suggestion; the missing
    # `revenue_target` it implies would only repeat it.
    return [
        p for p in out if not (p.message.startswith("missing key") and _is_typo(p.column, typos))
    ]


def _is_typo(column: str | None, typos: set[tuple[tuple[object, ...], str]]) -> bool:
    return any(column == _dotted((*parent, key)) for parent, key in typos)


def _plain(message: str) -> str:
    message = message.removeprefix("Value error, ").replace("Input should be", "must be")
    message = re.sub(r"a valid dictionary( or instance of \w+)?", "a mapping of keys", message)
    return message.replace("a valid tuple", "a list")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _path_in_message(document: Document, loc: tuple[object, ...], message: str) -> tuple:
    """A whole-section check names the key it is about first ('plan.seasonality has ...')."""
    found = re.match(r"[A-Za-z_]\w*(?:\.\w+)*", message)
    if found is not None:
        candidate = tuple(str(p) for p in loc) + tuple(found[0].split("."))
        if candidate in document.lines or _at(document.data, candidate) is not None:
            return candidate
    return loc


def _field_names(path: Sequence[object]) -> list[str]:
    """The keys a section of scenario.yaml accepts, read from optim.schema."""
    kind: Any = ScenarioConfig
    for part in path:
        kind = _unwrap(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if str(part) not in kind.model_fields:
                return []
            kind = kind.model_fields[str(part)].annotation
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]
        elif get_origin(kind) is tuple:
            kind = get_args(kind)[0]
        else:
            return []
    kind = _unwrap(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return list(kind.model_fields)
    return []


def _unwrap(kind: Any) -> Any:
    if get_origin(kind) in (Union, types.UnionType):
        options = [k for k in get_args(kind) if k is not type(None)]
        return options[0] if len(options) == 1 else kind
    return kind
