"""Merge a stack's profile and its Pulumi config, validate, and report every problem.

Nothing is registered before this returns: a bad value fails here with one
message that names each offending key by file and path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from infra.conventions import CONFIG_NAMESPACE
from infra.settings.stack import StackSettings
from stacks import PRODUCTION_STACKS, known_stacks, profile_path

NAMESPACE = CONFIG_NAMESPACE
# Keys of the `samokoder:` namespace that Pulumi.<stack>.yaml may hold;
# everything else about a stack belongs in its profile.
STACK_FILE_KEYS = ("identity", "release", "restore", "cut_over", "secrets", "lockbox", "rotation")


@dataclass(frozen=True)
class Problem:
    source: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.reason}"


class ConfigError(Exception):
    """Invalid stack settings; lists every problem found."""

    def __init__(self, stack: str, problems: Sequence[Problem]) -> None:
        self.stack = stack
        self.problems = list(problems)
        lines = [f"invalid configuration for stack '{stack}' ({len(self.problems)} problem(s)):"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


def load_settings(stack: str, stack_config: Mapping[str, Any], *, offline: bool = False) -> StackSettings:
    """Validate stack `stack` from its profile and its `samokoder:` config values.

    `stack_config` maps keys of the `samokoder:` namespace (without the
    prefix) to their decoded values, as Pulumi hands them to the program.
    """
    return validate_settings(stack, read_profile(stack), stack_config, offline=offline)


def validate_settings(
    stack: str, profile: Mapping[str, Any], stack_config: Mapping[str, Any], *, offline: bool = False
) -> StackSettings:
    """Merge and validate already-read settings; raise ConfigError listing every problem."""
    stack_file = f"Pulumi.{stack}.yaml"
    profile_file = f"stacks/{stack}.yaml"
    problems = [
        Problem(stack_file, f"{NAMESPACE}:{key}", _belongs_in_profile(key, profile_file))
        for key in stack_config
        if key not in STACK_FILE_KEYS
    ]
    problems += [
        Problem(profile_file, key, f"belongs in {stack_file} as {NAMESPACE}:{key}, not in the profile")
        for key in profile
        if key in STACK_FILE_KEYS or key == "stack"
    ]
    merged = {**profile, **{k: stack_config[k] for k in STACK_FILE_KEYS if k in stack_config}}
    merged["stack"] = stack
    try:
        settings = StackSettings.model_validate(
            merged, context={"production": stack in PRODUCTION_STACKS, "offline": offline}
        )
    except ValidationError as error:
        problems += _problems_from(error, stack_file, profile_file)
    if problems:
        raise ConfigError(stack, problems)
    return settings


def _belongs_in_profile(key: str, profile_file: str) -> str:
    allowed = ", ".join(f"{NAMESPACE}:{k}" for k in STACK_FILE_KEYS)
    return f"unknown key (the stack file holds only {allowed}; sizes and policies go in {profile_file})"


# A settings file is a few kilobytes; anything near this is a mistake (or an attack).
MAX_YAML_BYTES = 256 * 1024


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML without anchors, aliases or duplicate keys.

    Aliases are what make a 4 KB file expand to gigabytes (a "billion laughs"),
    and a duplicate key silently drops the first value; a settings file needs neither.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in settings files", mark
            )
        if getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors (&name) are not allowed in settings files", mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain value", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {excerpt(key)}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """What is wrong and where, never the document's text around it."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        return f"not valid YAML{where}: {error.problem or error.context or 'unreadable'}"
    return "not valid YAML"


def parse_yaml(text: str) -> Any:
    """YAML as a settings file may hold it: safe, no aliases, no duplicate keys."""
    return yaml.load(text, Loader=_StrictLoader)


def read_yaml_file(path: Path, source: str, stack: str, kind: str) -> Any:
    """The parsed YAML of a settings file; a missing, oversized or unparsable one is a ConfigError."""

    def refused(reason: str) -> ConfigError:
        return ConfigError(stack, [Problem(source, "(file)", reason)])

    if not path.is_file():
        raise refused(f"no such {kind}; known stacks: {', '.join(known_stacks()) or 'none'}")
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise refused(f"{size} bytes: a settings file holds at most {MAX_YAML_BYTES}")
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise refused("not UTF-8 text") from None
    except yaml.YAMLError as error:
        raise refused(_yaml_problem(error)) from None
    except RecursionError:
        raise refused("nested too deeply") from None


# How much of a bad value a message may quote; longer, or secret-looking, values are not shown.
EXCERPT_CHARS = 32


def looks_secret(text: str) -> bool:
    """A long run of letters and digits with no spaces: a token, a key, a password."""
    return (
        len(text) >= 16
        and " " not in text
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
    )


def excerpt(value: Any) -> str:
    """`value` as a message may quote it: short, and never what looks like a secret."""
    if isinstance(value, str) and looks_secret(value):
        return "(a value not shown)"
    text = repr(value)
    if len(text) > EXCERPT_CHARS:
        return f"{text[: EXCERPT_CHARS - 3]}... ({len(text)} characters)"
    return text


def read_profile(stack: str) -> dict[str, Any]:
    """The profile of `stack` as written in stacks/<stack>.yaml."""
    profile_file = f"stacks/{stack}.yaml"
    data = read_yaml_file(profile_path(stack), profile_file, stack, "profile")
    if not isinstance(data, dict):
        raise ConfigError(stack, [Problem(profile_file, "(file)", "must be a mapping of settings")])
    return data


def _problems_from(error: ValidationError, stack_file: str, profile_file: str) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = item["loc"]
        top = str(loc[0]) if loc else ""
        if top in STACK_FILE_KEYS:
            source, path = stack_file, f"{NAMESPACE}:{_dotted(loc)}"
        else:
            source, path = profile_file, _dotted(loc) or "(settings)"
        # A secret's value is never repeated, whatever went wrong with it.
        problems.append(Problem(source, path, _reason(item, quote_input=top != "secrets")))
    return problems


def _dotted(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _reason(item: Any, quote_input: bool = True) -> str:
    kind = item["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(item["msg"]).removeprefix("Value error, ")
    if kind == "value_error" or not quote_input:
        return message
    return f"{message} (got {excerpt(item['input'])})"
