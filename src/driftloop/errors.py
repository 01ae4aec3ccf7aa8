"""Exceptions raised by driftloop.

Every error a user can cause derives from :class:`DriftloopError` and also from the builtin it
resembles, so ``except ValueError`` keeps working in code that does not know driftloop::

    DriftloopError
    ├── ConfigError (ValueError)           a setting or parameter is invalid
    │   └── UnknownMethodError (KeyError)  a drift method name that does not exist
    ├── DataError (ValueError)             the data cannot be compared as given
    │   ├── EmptyDataError                 a side has no rows
    │   ├── SchemaError                    no common columns, unusable dtypes
    │   ├── ValueQualityError              all-NaN columns, inf values, mixed types
    │   └── ProfileError                   a profile file unreadable, or profiles that do not merge
    ├── SourceError (OSError)              a file, URL or database cannot be read or written
    ├── RegistryError                      the model registry cannot do what was asked
    └── LockedError                        another run of the same pipeline holds its lock

Messages name the thing, the bad value and what would be valid, on one line.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "DriftloopError",
    "EmptyDataError",
    "LockedError",
    "ProfileError",
    "RegistryError",
    "SchemaError",
    "SourceError",
    "UnknownMethodError",
    "ValueQualityError",
]


class DriftloopError(Exception):
    """Root of every error driftloop raises on purpose."""


class ConfigError(DriftloopError, ValueError):
    """A setting or parameter is invalid."""


class UnknownMethodError(ConfigError, KeyError):
    """A drift method name that does not exist."""

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return str(self.args[0]) if self.args else ""


class DataError(DriftloopError, ValueError):
    """The data cannot be compared as given."""


class EmptyDataError(DataError):
    """A side has no rows."""


class SchemaError(DataError):
    """The two sides share no usable columns, or a column has an unusable dtype."""


class ValueQualityError(DataError):
    """A column's values cannot be tested: all missing, infinite, or of mixed types."""


class ProfileError(DataError):
    """A profile file is not readable as one, or two profiles cannot be merged or compared."""


class SourceError(DriftloopError, OSError):
    """A file, URL or database cannot be read or written."""


class RegistryError(DriftloopError):
    """The model registry could not do what was asked."""


class LockedError(DriftloopError):
    """Another run of the same pipeline holds the lock."""
