"""The pricing table: USD per million tokens per model, shipped as a versioned TOML file and
overridable by the user's own file, which is merged over it field by field.

A model name is looked up as written, then (lower-cased) without a ``provider/`` prefix,
without a ``[1m]``-style suffix and without a date suffix (``-20251101``, ``-2026-04-01``),
in that order, against each entry's key and aliases. A model that matches nothing is
unpriced: never guessed from a similar name.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveInt,
    PrivateAttr,
    ValidationError,
)

from grader.usage._errors import PricingError

__all__ = [
    "PRICING_ENV",
    "SHIPPED_PRICING",
    "LongContextRates",
    "ModelPrice",
    "PricingTable",
    "Rates",
    "load_pricing",
]

PRICING_ENV: Final = "RAMP_PRICING"
SHIPPED_PRICING: Final = Path(__file__).resolve().with_name("pricing.toml")
_PER_TOKEN: Final = 1e-6
_PREFIX = re.compile(r"^[a-z0-9_.-]+/")
_BRACKETS = re.compile(r"\[[^\]]*\]$")
_DATE = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")


class Rates(BaseModel):
    """USD per million tokens. ``cache_write`` defaults to ``input``, ``reasoning`` to
    ``output``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: NonNegativeFloat
    cached_input: NonNegativeFloat
    cache_write: NonNegativeFloat | None = None
    output: NonNegativeFloat
    reasoning: NonNegativeFloat | None = None

    def cost(
        self, *, uncached: int, cache_read: int, cache_write: int, output: int, reasoning: int
    ) -> float:
        """Dollars for one call; ``output`` includes ``reasoning``."""
        write_rate = self.input if self.cache_write is None else self.cache_write
        reasoning_rate = self.output if self.reasoning is None else self.reasoning
        dollars = (
            uncached * self.input
            + cache_read * self.cached_input
            + cache_write * write_rate
            + max(0, output - reasoning) * self.output
            + reasoning * reasoning_rate
        )
        return dollars * _PER_TOKEN


class LongContextRates(Rates):
    """Rates for a call whose input (cached tokens included) exceeds ``above_input_tokens``."""

    above_input_tokens: PositiveInt


class ModelPrice(Rates):
    provider: str | None = None
    aliases: tuple[str, ...] = ()
    long_context: LongContextRates | None = None

    def rates_for(self, input_tokens: int) -> Rates:
        if self.long_context is not None and input_tokens > self.long_context.above_input_tokens:
            return self.long_context
        return self


class PricingTable(BaseModel):
    """Prices per model; ``version`` names the shipped table and any file merged over it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    files: tuple[str, ...] = Field(description="the TOML files merged, shipped one first")
    models: dict[str, ModelPrice]
    _index: dict[str, str] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        index: dict[str, str] = {}
        for key, price in self.models.items():
            for name in (key, *price.aliases):
                index.setdefault(name.lower(), key)
        self._index = index

    def resolve(self, model: str | None) -> str | None:
        """The key of the entry that prices ``model``, or None."""
        if not model:
            return None
        for name in _candidates(model):
            if name in self._index:
                return self._index[name]
        return None

    def cost(
        self,
        model: str | None,
        *,
        input_tokens: int,
        cache_read: int,
        cache_write: int,
        output_tokens: int,
        reasoning: int,
    ) -> float | None:
        """Dollars for one call of ``model`` (OTel-shaped counts), or None if unpriced."""
        key = self.resolve(model)
        if key is None:
            return None
        rates = self.models[key].rates_for(input_tokens)
        return rates.cost(
            uncached=max(0, input_tokens - cache_read - cache_write),
            cache_read=cache_read,
            cache_write=cache_write,
            output=output_tokens,
            reasoning=reasoning,
        )


def _candidates(model: str) -> list[str]:
    name = model.strip().lower()
    found = [name]
    for pattern in (_PREFIX, _BRACKETS, _DATE):
        name = pattern.sub("", name)
        found.append(name)
    return found


def load_pricing(path: Path | None = None) -> PricingTable:
    """The shipped table, with ``path`` (default: the file named by ``$RAMP_PRICING``, if
    set) merged over it: its entries add models or change fields of shipped ones."""
    raw = _read(SHIPPED_PRICING)
    files = [str(SHIPPED_PRICING)]
    overlay = path
    if overlay is None and os.environ.get(PRICING_ENV):
        overlay = Path(os.environ[PRICING_ENV])
    if overlay is not None:
        extra = _read(overlay)
        raw = _merge(raw, extra, overlay)
        files.append(str(overlay))
    raw["files"] = files
    try:
        return PricingTable.model_validate(raw)
    except ValidationError as exc:
        where = " merged over ".join(reversed(files))
        raise PricingError(f"the pricing table {where} is not valid:\n{_explain(exc)}") from exc


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PricingError(
            f"pricing file {path} does not exist; give an existing TOML file (--pricing FILE "
            f"or ${PRICING_ENV}), or unset ${PRICING_ENV} to use the shipped prices"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PricingError(f"cannot read pricing file {path}: {exc}") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PricingError(
            f"pricing file {path} is not valid TOML: {exc}; see docs/usage-format.md for the "
            'layout ([models."NAME"] tables with input, cached_input, output, ...)'
        ) from exc


def _merge(base: dict[str, Any], extra: dict[str, Any], source: Path) -> dict[str, Any]:
    unknown = set(extra) - {"version", "models"}
    if unknown:
        raise PricingError(
            f"pricing file {source}: unknown top-level key(s) {', '.join(sorted(unknown))}; "
            "a pricing file has 'version' and [models.\"NAME\"] tables"
        )
    merged = dict(base)
    stamp = str(extra.get("version", source.name))
    merged["version"] = f"{base.get('version', '?')}+{stamp}"
    models = {name: dict(entry) for name, entry in base.get("models", {}).items()}
    extra_models = extra.get("models", {})
    if not isinstance(extra_models, dict):
        raise PricingError(f"pricing file {source}: 'models' must be a table of tables")
    for name, entry in extra_models.items():
        if not isinstance(entry, dict):
            raise PricingError(
                f"pricing file {source}: models.{name} must be a table, e.g. "
                f'[models."{name}"] with input = ..., cached_input = ..., output = ...'
            )
        target = models.setdefault(name, {})
        for field, value in entry.items():
            if field == "long_context" and isinstance(value, dict):
                target[field] = {**target.get(field, {}), **value}
            else:
                target[field] = value
    merged["models"] = models
    return merged


def _explain(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)
