"""The campaign file: a TOML document parsed into :class:`CampaignSpec`.

A campaign is agents x models x ``trials`` trials, each trial one agent run (``ramp run``)
with the same budget, attempts per stage, case sample and sandbox. Unknown keys are refused,
so a misspelt key is an error rather than a silent default. Only what a trial's result
depends on goes into the campaign's hash (:meth:`CampaignSpec.spec_hash`): concurrency,
retries, the ledger and the executor may change between a run and its resumption.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from golden import Stage
from ramp_mcp.campaign._errors import CampaignSpecError

__all__ = [
    "AgentSpec",
    "CampaignSpec",
    "ClaudeCodeAgent",
    "CodexAgent",
    "CommandAgent",
    "ExecutorSpec",
    "PythonAgent",
    "ScriptedAgent",
    "load_campaign",
    "parse_campaign",
]

DEFAULT_MODEL = "default"  # the agent's own default model
_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_ENTRY = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AgentBase(_Strict):
    name: str = Field(pattern=_NAME, description="how reports name the agent; unique")
    models: list[str] | None = Field(
        default=None, min_length=1, description="overrides the campaign's models"
    )
    transport: Literal["stdio", "http"] = "stdio"


class _CommandLine(_AgentBase):
    extra_args: list[str] = Field(default_factory=list, description="appended to its command")


class ClaudeCodeAgent(_CommandLine):
    kind: Literal["claude-code"]


class CodexAgent(_CommandLine):
    kind: Literal["codex"]


class CommandAgent(_CommandLine):
    """Any command line, which finds its run through RAMP_* variables (docs/agents.md)."""

    kind: Literal["command"]
    command: str = Field(min_length=1)


class PythonAgent(_AgentBase):
    """A Python function ``module:function`` called in an agent process of its own with an
    ``AgentCall`` (the run, its MCP server, the prompt) and ``options``."""

    kind: Literal["python"]
    transport: Literal["stdio"] = "stdio"
    entry: str = Field(pattern=_ENTRY, description="module:function")
    options: dict[str, Any] = Field(default_factory=dict)


class ScriptedAgent(_AgentBase):
    """The scripted reference agent of ``ramp demo``; ``break_stage`` makes it write a wrong
    program for that stage (a deliberately weaker agent), ``degrade_stage`` spoil a quarter
    of that stage's outputs."""

    kind: Literal["scripted"]
    transport: Literal["stdio"] = "stdio"
    break_stage: Stage | None = None
    degrade_stage: Stage | None = None


AgentSpec = Annotated[
    ClaudeCodeAgent | CodexAgent | CommandAgent | PythonAgent | ScriptedAgent,
    Field(discriminator="kind"),
]


class ExecutorSpec(_Strict):
    """Where trials run: ``local`` (this machine, a pool of ``concurrency``) or ``ray``."""

    kind: Literal["local", "ray"] = "local"
    address: str | None = Field(default=None, description='a Ray address, or "auto"')

    @model_validator(mode="after")
    def _address_only_for_ray(self) -> ExecutorSpec:
        if self.kind == "local" and self.address is not None:
            raise ValueError('address is for kind = "ray"; remove it or set kind = "ray"')
        return self


class CampaignSpec(_Strict):
    """A parsed campaign file (docs: examples/campaigns/)."""

    name: str = Field(pattern=_NAME, description="the campaign's name in the ledger")
    agents: list[AgentSpec] = Field(min_length=1)
    models: list[str] = Field(default_factory=lambda: [DEFAULT_MODEL], min_length=1)
    trials: int = Field(default=3, ge=1, le=1000, description="k: trials per agent x model")
    budget_s: float | None = Field(default=None, gt=0, description="wall-clock budget per trial")
    attempts_per_stage: int = Field(default=1, ge=1)
    sample: int | None = Field(default=None, ge=1, description="hidden cases per grading")
    epoch: str = Field(
        default="0",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$",
        description="the epoch whose hidden cases grade every trial (`ramp golden epoch list`); "
        "0, the default, is the built-in corpus. A campaign names it: `ramp golden epoch use` "
        "does not change a campaign. On Ray every node must hold it (make it there with the "
        "same seed: the same bytes).",
    )
    seed: int | None = None
    sandbox: Literal["auto", "docker", "bwrap"] = "auto"
    concurrency: int = Field(default=2, ge=1, le=1024, description="trials at once, at most")
    infra_retries: int = Field(
        default=2, ge=0, le=20, description="new attempts after infrastructure failures"
    )
    ledger: str | None = Field(default=None, description="SQLAlchemy URL of the ledger")
    executor: ExecutorSpec = ExecutorSpec()

    @model_validator(mode="after")
    def _agent_names_unique(self) -> CampaignSpec:
        names = [agent.name for agent in self.agents]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"every agents[].name must be unique; repeated: {', '.join(repeated)}")
        return self

    def models_of(self, agent: AgentSpec) -> list[str]:
        return agent.models or self.models

    def agent(self, name: str) -> AgentSpec:
        return next(agent for agent in self.agents if agent.name == name)

    def what(self) -> dict[str, Any]:
        """What a trial's result depends on: the part of the file a resumption must keep."""
        return self.model_dump(
            mode="json", exclude={"concurrency", "infra_retries", "ledger", "executor"}
        )

    def spec_hash(self) -> str:
        canonical = json.dumps(self.what(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _key_path(loc: tuple[int | str, ...]) -> str:
    """``agents[1].break_stage`` from pydantic's location (the agent union's tag dropped:
    it is the location part right after an agent's index)."""
    path = ""
    for before, part in zip((None, *loc), loc, strict=False):
        if isinstance(part, int):
            path += f"[{part}]"
        elif not (isinstance(before, int) and part in _KINDS):
            path += f".{part}" if path else part
    return path or "(top level)"


_KINDS = ("claude-code", "codex", "command", "python", "scripted")


def _explain(error: Any) -> str:
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "is not a key of a campaign file here (misspelt? see examples/campaigns/)"
    if kind == "missing":
        return "is required"
    if kind == "union_tag_invalid":
        return "kind must be one of claude-code, codex, command, python, scripted"
    if kind == "union_tag_not_found":
        return "needs a kind: claude-code, codex, command, python or scripted"
    if kind == "value_error":
        return str(message).removeprefix("Value error, ")
    return f"{message} (got {error.get('input')!r})"


def parse_campaign(document: dict[str, Any], *, source: str) -> CampaignSpec:
    """The campaign in a parsed TOML ``document``; :class:`CampaignSpecError` listing every
    problem (key path, what is wrong) if it does not fit."""
    try:
        return CampaignSpec.model_validate(document)
    except ValidationError as exc:
        problems = [f"  {_key_path(e['loc'])}: {_explain(e)}" for e in exc.errors()]
        raise CampaignSpecError(
            f"{source} is not a valid campaign file:\n"
            + "\n".join(problems)
            + "\nfix these keys (examples/campaigns/scripted.toml shows every one) and run again"
        ) from exc


def load_campaign(path: Path) -> CampaignSpec:
    """Read and check the campaign file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CampaignSpecError(
            f"cannot read the campaign file {path}: {exc.strerror or exc}; check the path"
        ) from exc
    except UnicodeDecodeError as exc:
        raise CampaignSpecError(f"{path} is not UTF-8 text ({exc}); save it as UTF-8") from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignSpecError(
            f"{path} is not valid TOML: {exc}; fix the syntax at that line"
        ) from exc
    return parse_campaign(document, source=str(path))
