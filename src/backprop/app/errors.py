"""The application's error types, one per way a command can fail before or while it runs.

The command line maps each to an exit code by its type (see :mod:`backprop.cli`):
:class:`ConfigError` and :class:`UsageError` exit 2 (reported before anything runs),
:class:`DataError` exits 1 (a dataset file exists but cannot be used).
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "UsageError"]


class ConfigError(ValueError):
    """An invalid configuration: the message names the key and what is allowed."""


class DataError(ValueError):
    """A dataset file exists but cannot be used (truncated, corrupted, of another format)."""


class UsageError(Exception):
    """A wrong argument, file or value given on the command line (exit code 2)."""
