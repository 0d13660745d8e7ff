"""Base class for API schemas: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: Any) -> Any:
    """Pydantic's lax mode reads numbers (and numeric strings such as "0") as Unix timestamps, so
    `startDate=0` silently meant 1970-01-01. API dates are `YYYY-MM-DD` only."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("Use a date as YYYY-MM-DD.")


# A record id on the API: the tables' ids are 32-bit on PostgreSQL, where a larger number made the
# query itself fail ("integer out of range", a 500) instead of a plain 400.
DbId = Annotated[int, Ge(1), Le(2**31 - 1)]

# A calendar date on the API: a `date` or a "YYYY-MM-DD" string, nothing else.
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def dump(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)
