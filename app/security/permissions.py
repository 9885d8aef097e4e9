"""The role × action matrix, read from resources/permissions.toml (pure: text in, table out)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from wardwatch.app.security.actions import Action, Role

MATRIX_FILE = "permissions.toml"
# Commands not listed in the matrix are this action: administrators only, until someone lists them.
UNLISTED_COMMAND = Action.STATION_SETTINGS


class PermissionsError(ValueError):
    """The matrix file is broken (unknown role included, a cycle, a missing table)."""


@dataclass(frozen=True, slots=True)
class RoleInfo:
    name: str
    title: str
    description: str
    actions: frozenset[str]  # its own and those of the roles it includes


@dataclass(frozen=True, slots=True)
class Permissions:
    roles: Mapping[str, RoleInfo]
    commands: Mapping[str, str]  # "db upgrade" -> "record.upgrade"
    open_commands: frozenset[str]

    def allows(self, role: str | None, action: str) -> bool:
        info = self.roles.get(role or "")
        return info is not None and action in info.actions

    def roles_allowed(self, action: str) -> list[str]:
        return [name for name, info in self.roles.items() if action in info.actions]

    def command_action(self, command: str) -> str | None:
        """The action a command-line command is (None: open to anyone)."""
        if command in self.open_commands or command.split(" ")[0] in self.open_commands - {""}:
            return None
        return self.commands.get(command, self.commands.get(command.split(" ")[0], UNLISTED_COMMAND))

    def title(self, role: str) -> str:
        info = self.roles.get(role)
        return info.title if info is not None else role


def parse_permissions(text: str) -> Permissions:
    try:
        doc = tomllib.loads(text)
        raw_roles = doc["roles"]
    except (tomllib.TOMLDecodeError, KeyError) as exc:
        raise PermissionsError(f"the permission matrix cannot be read: {exc}") from None
    own: dict[str, set[str]] = {}
    includes: dict[str, list[str]] = {}
    for name, body in raw_roles.items():
        own[name] = {str(a) for a in body.get("actions", [])}
        includes[name] = [str(r) for r in body.get("includes", [])]

    def expand(name: str, seen: tuple[str, ...]) -> set[str]:
        if name in seen:
            raise PermissionsError(f"role {name!r} includes itself ({' -> '.join((*seen, name))})")
        if name not in own:
            raise PermissionsError(f"role {seen[-1]!r} includes an unknown role {name!r}")
        actions = set(own[name])
        for other in includes[name]:
            actions |= expand(other, (*seen, name))
        return actions

    roles = {
        name: RoleInfo(
            name,
            str(raw_roles[name].get("title", name)),
            str(raw_roles[name].get("description", "")),
            frozenset(expand(name, ())),
        )
        for name in own
    }
    missing = {r.value for r in Role} - roles.keys()
    if missing:
        raise PermissionsError(f"the permission matrix lacks the roles {sorted(missing)}")
    commands = doc.get("commands", {})
    open_names = frozenset(str(n) for n in commands.get("open", {}).get("names", []))
    listed = {str(k): str(v) for k, v in commands.items() if k != "open"}
    return Permissions(MappingProxyType(roles), MappingProxyType(listed), open_names)


def load_permissions() -> Permissions:
    """The matrix shipped with WardWatch (read once at start, off the GUI thread)."""
    return parse_permissions(resources.files("wardwatch.resources").joinpath(MATRIX_FILE).read_text("utf-8"))
