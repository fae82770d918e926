"""The areas proposals are classified in (领域), per year, as the office configures them
(`BANLI_AREAS`: a JSON file), laid on the deciding profile. The kernel checks an area against
its year's list (banli.domain.timing.deadlines.Profile.areas_of); the five areas (经济, 政治, 文化, 社会,
生态文明) stand where nothing is configured.

The file:

    {"areas": [{"code": "economy", "zh": "经济", "en": "economy"}, ...],
     "years": {"2027": [{"code": "economy", "zh": "经济"}, {"code": "party", "zh": "党的建设"}]}}

`areas` (optional) replaces the five for every year; `years` gives a year its own list. Codes
are lower-case letters, digits and _; each list names a code once."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .domain.timing.deadlines import Area, Profile


class AreaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    areas: list[Area] | None = None
    years: dict[int, list[Area]] = Field(default_factory=dict)

    @field_validator("areas", "years")
    @classmethod
    def _codes_once(cls, value: Any) -> Any:
        lists = [] if value is None else value.values() if isinstance(value, dict) else [value]
        for areas in lists:
            codes = [a.code for a in areas]
            if not areas or len(set(codes)) != len(codes):
                raise ValueError("each list names one area or more, each code once")
        return value


def load_areas(path: Path) -> AreaConfig:
    """The configured areas; ValueError (naming the file) when it is not such a file."""
    try:
        return AreaConfig.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ValueError(f"BANLI_AREAS {path}: {exc}") from exc


def with_areas(profile: Profile, config: AreaConfig) -> Profile:
    """The profile with the configured areas."""
    change: dict[str, Any] = {"areas_by_year": {y: tuple(a) for y, a in config.years.items()}}
    if config.areas is not None:
        change["areas"] = tuple(config.areas)
    return profile.model_copy(update=change)
