"""The words people read, as the kernel declares them: a name in Chinese and English for each
command, event and field (declared beside its class), for each choice of a value type (declared
once with the type, banli.domain.types), and how a form asks for a value where its type alone
does not say. Declarations only: banli.domain.views.vocabulary reads them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

Name = tuple[str, str]  # (zh, en)

# How a form asks for one value: a line of text, a paragraph, a date, a time, a choice among
# labelled values, one bureau or several, another proposal, yes or no, a number, several lines,
# a file (a reply's letter: uploaded first, the form sends what the upload answered), an area
# (one of the year's areas, which the profile lists: GET /api/vocabulary's `areas`).
InputKind = Literal["text", "long_text", "date", "datetime", "select", "bureau", "bureaus",
                    "proposal", "boolean", "number", "texts", "letter", "area"]


@dataclass(frozen=True)
class Input:
    """Annotated metadata: how a form asks for a value of this type (`BureauId` is a bureau,
    not any text). Validation ignores it."""

    kind: InputKind


class Labels:
    """A class's name and its fields' names, in Chinese and English:
    `labels: ClassVar[Labels] = Labels("答复", "reply", result=("办理结果", "result"))`.
    A field a class leaves out takes its base class's words (banli.domain.views.vocabulary)."""

    __slots__ = ("title", "fields")

    def __init__(self, zh: str, en: str, **fields: Name) -> None:
        self.title: Name = (zh, en)
        self.fields: Mapping[str, Name] = fields

    def __repr__(self) -> str:
        return f"Labels{self.title!r}"


@dataclass(frozen=True)
class Choices:
    """The words of each value of a choice type (a `Literal`), under a name the page and the
    documents look them up by (`result`, `disclosure` ...)."""

    name: str
    type: object  # the Literal itself: a field of this type is a select with these labels
    labels: Mapping[str, Name] = field(default_factory=dict)
