"""The ledger's errors: one branch of RAMP's tree, each message says what to check."""

from __future__ import annotations

from toolchain import RampError

__all__ = [
    "CampaignChangedError",
    "CampaignNotFoundError",
    "LedgerBusyError",
    "LedgerConfigError",
    "LedgerError",
    "LedgerIntegrityError",
    "LedgerMigrationError",
    "LedgerUnavailableError",
    "RunNotFoundError",
]


class LedgerError(RampError):
    """The ledger could not store, find or lock something."""


class LedgerConfigError(LedgerError):
    """The ledger URL is malformed or names a database RAMP does not support."""


class LedgerUnavailableError(LedgerError):
    """The ledger database could not be reached or opened."""


class LedgerBusyError(LedgerError):
    """Another process held the ledger's write lock for longer than the busy timeout."""


class LedgerMigrationError(LedgerError):
    """The ledger's schema could not be brought to this RAMP's revision."""


class LedgerIntegrityError(LedgerError):
    """A write broke a constraint of the ledger (a missing run, a duplicate key)."""


class RunNotFoundError(LedgerError):
    """The ledger holds no run with the given id."""


class CampaignNotFoundError(LedgerError):
    """The ledger holds no campaign with the given name."""


class CampaignChangedError(LedgerError):
    """A campaign of that name exists in the ledger, made from a different campaign file."""
