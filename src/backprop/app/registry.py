"""One registry per component family: the names a config may use, and what each name builds.

A :class:`Registry` maps names (as configs spell them: ``"sgd"``, ``"cross_entropy"``) to an
:class:`Entry`: the class or function the name builds, plus the few facts about it that the
application needs (a loss is a classifier's; a scheduler fills in ``T_max``...). Config validation,
the run builder and the ``--help`` listings all read the same registry, so a component is added
in one place: one ``register`` line in its family's table (see :mod:`backprop.app.components` and
:mod:`backprop.app.datasets`).

Example:
    >>> OPTIMIZERS = Registry("optimizer")
    >>> OPTIMIZERS.register("sgd", optim.SGD)
    >>> OPTIMIZERS.get("sgd", "optimizer.name").target
    <class 'backprop.optim.sgd.SGD'>
    >>> OPTIMIZERS.get("adamax", "optimizer.name")
    ConfigError: optimizer.name: unknown value 'adamax'; allowed: sgd
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

__all__ = ["Entry", "Registry"]

_DECORATE = object()  # register(name) without a target: used as a decorator


@dataclass(frozen=True)
class Entry:
    """One registered component.

    Attributes:
        name: the registry key.
        target: the class or function the name builds (None for a name that builds nothing,
            such as the scheduler ``"none"``).
        info: family-specific facts (see each family's table).
        summary: a one-line description for listings.
    """

    name: str
    target: Callable[..., Any] | None
    info: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


class Registry:
    """Names -> :class:`Entry`, in registration order (the order error messages list them).

    Args:
        family: what the components are (``"optimizer"``), for error messages.
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self._entries: dict[str, Entry] = {}

    def register(
        self,
        name: str,
        target: Any = _DECORATE,
        *,
        summary: str = "",
        **info: Any,
    ) -> Callable:
        """Register ``target`` under ``name``; without ``target``, a decorator that registers
        the function or class it decorates. ``target=None`` registers a name that builds
        nothing (the scheduler ``"none"``).

        Raises:
            ValueError: an empty name, or a name already registered to something else.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"{self.family} registry: a name must be a non-empty string, got {name!r}"
            )

        def add(obj):
            old = self._entries.get(name)
            if old is not None and old.target is not obj:
                raise ValueError(f"{self.family} registry: {name!r} is already registered")
            self._entries[name] = Entry(name, obj, dict(info), summary or _first_line(obj))
            return obj

        if target is _DECORATE:
            return add
        return add(target)

    def get(self, name: str, where: str) -> Entry:
        """The entry of ``name``.

        Raises:
            ConfigError: ``"<where>: unknown value 'x'; allowed: a, b, c"``.
        """
        entry = self._entries.get(name) if isinstance(name, str) else None
        if entry is None:
            raise ConfigError(f"{where}: unknown value {name!r}; allowed: {', '.join(self)}")
        return entry

    def unregister(self, name: str) -> Entry:
        """Remove ``name`` (a plugin unloading, a test cleaning up); returns its entry.

        Raises:
            KeyError: ``name`` is not registered.
        """
        try:
            return self._entries.pop(name)
        except KeyError:
            raise KeyError(f"{self.family} registry: {name!r} is not registered") from None

    def names(self) -> list[str]:
        """The registered names, in registration order."""
        return list(self._entries)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.family!r}: {', '.join(self)})"


def _first_line(obj) -> str:
    if obj is None:
        return ""
    doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    return doc[0].strip().rstrip(".:") if doc else ""
