"""Errors of usage import and pricing; all derive from :class:`toolchain._errors.RampError`."""

from __future__ import annotations

from toolchain import RampError

__all__ = ["PricingError", "UsageError", "UsageInputError"]


class UsageError(RampError):
    """Usage could not be imported, reported or summed."""


class UsageInputError(UsageError):
    """What was given to import or report is not usable (a missing file, a bad record)."""


class PricingError(UsageError):
    """A pricing table is malformed; the message names the file, the entry and the fix."""
