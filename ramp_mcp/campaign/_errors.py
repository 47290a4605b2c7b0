"""What can go wrong with a campaign before or around its trials (a trial's own failures are
recorded on its attempts, not raised)."""

from __future__ import annotations

from toolchain import RampError

__all__ = ["CampaignError", "CampaignSpecError"]


class CampaignError(RampError):
    """A campaign could not be run, resumed or shown."""


class CampaignSpecError(CampaignError):
    """A campaign file is missing, is not TOML, or does not fit the campaign schema; the
    message names the file, the key and how to fix it."""
