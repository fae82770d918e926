"""Bureaus as offices name them: which bureau a name means (its id, full name, English name,
short names 简称, former names), the closest registered names when none does, and a bureau's name
and lineage (原…) as of a date. Pure: the callers give the registered bureaus (`Bureau` states,
from the event store or the projections).

Names are compared after `norm` (NFKC, no whitespace, case-folded: 市发展改革委 and 市发展改革委 with a
full-width space are one name). A bureau's standing names (its id, full and English names,
short names) win over former names: a name another bureau bore before is that other bureau's
only when no bureau bears it now."""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Iterable, Mapping

from ..proposal import Bureau
from ..types import business_date
from ..wording import day_words

# A bureau id (banli.domain.types.BureauId): a value of this form is taken as an id as it is.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def norm(name: str) -> str:
    """A name's comparison form: NFKC, no whitespace, case-folded."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


def standing_names(bureau: Bureau) -> tuple[str, ...]:
    """What a bureau is called now: its full name, English name and short names."""
    return tuple(n for n in (bureau.name, bureau.name_en, *bureau.short_names) if n)


@dataclass(frozen=True)
class Unresolved:
    """A name no registered bureau bears (`closest`: the nearest registered names, each with
    its bureau's id), or several do (`candidates`: their ids)."""

    name: str
    closest: tuple[tuple[str, str], ...] = ()
    candidates: tuple[str, ...] = ()

    def words(self) -> tuple[str, str]:
        """Why, in Chinese and English, with the closest names offered."""
        if self.candidates:
            ids = "、".join(self.candidates)
            return (f"“{self.name}”对应多个承办单位：{ids}，请改用单位代码",
                    f"'{self.name}' names several bureaus: {', '.join(self.candidates)}; "
                    "give the bureau's id")
        if not self.closest:
            return (f"承办单位“{self.name}”未登记，尚无已登记的承办单位",
                    f"bureau '{self.name}' is not registered, and no bureau is yet")
        zh = "、".join(f"{name}（{bureau}）" for name, bureau in self.closest)
        en = ", ".join(f"{name} ({bureau})" for name, bureau in self.closest)
        return (f"承办单位“{self.name}”未登记；最接近的已登记单位：{zh}",
                f"bureau '{self.name}' is not registered; the closest registered: {en}")


@dataclass
class NameIndex:
    """Registered bureaus by every name they bear or bore (`learn` adds a registration or a
    rename as an import reads it)."""

    standing: dict[str, set[str]] = field(default_factory=dict)  # norm(name) -> ids
    former: dict[str, set[str]] = field(default_factory=dict)
    shown: dict[str, tuple[str, str]] = field(default_factory=dict)  # norm(name) -> (name, id)

    @classmethod
    def of(cls, bureaus: Mapping[str, Bureau | Iterable[str]]) -> "NameIndex":
        """From registered bureaus: `Bureau` states, or a bureau's names (full name first,
        then any others, all standing)."""
        index = cls()
        for bureau, known in bureaus.items():
            if isinstance(known, Bureau):
                index.add(bureau, standing_names(known), known.former_names)
            else:
                index.add(bureau, tuple(known), ())
        return index

    def add(self, bureau: str, standing: Iterable[str], former: Iterable[str] = ()) -> None:
        self._put(self.standing, bureau, bureau)
        for name in standing:
            self._put(self.standing, bureau, name)
        for name in former:
            self._put(self.former, bureau, name)

    def _put(self, names: dict[str, set[str]], bureau: str, name: str) -> None:
        if key := norm(name):
            names.setdefault(key, set()).add(bureau)
            self.shown.setdefault(key, (name, bureau))

    def learn(self, data: Mapping[str, Any]) -> None:
        """What a command read from an import says of names: a registration's names, a
        rename's new names (its old names stay known: as former names)."""
        kind, bureau = data.get("type"), data.get("bureau")
        if kind not in ("register_bureau", "rename_bureau") or not isinstance(bureau, str):
            return
        standing = [n for n in (data.get("name"), data.get("name_en"),
                                *(data.get("short_names") or ())) if isinstance(n, str)]
        former = [n for n in data.get("former_names") or () if isinstance(n, str)]
        if kind == "rename_bureau":  # what it was called is a former name now
            former += [shown for key, (shown, owner) in self.shown.items()
                       if owner == bureau and bureau in self.standing.get(key, ())]
        self.add(bureau, standing, former)

    def find(self, name: str) -> frozenset[str]:
        """The bureaus a name means: those bearing it now, else those that bore it."""
        key = norm(name)
        return frozenset(self.standing.get(key) or self.former.get(key) or ())

    def resolve(self, name: str) -> str | Unresolved:
        """The id a name means, or why none."""
        found = self.find(name)
        if len(found) == 1:
            return next(iter(found))
        if found:
            return Unresolved(name, candidates=tuple(sorted(found)))
        return Unresolved(name, closest=self.closest(name))

    def closest(self, name: str, n: int = 3) -> tuple[tuple[str, str], ...]:
        """The registered names nearest to `name` (difflib's ratio over the comparison forms;
        a name that contains the other, or is contained in it, first), each with its
        bureau."""
        key = norm(name)
        keys = list(self.shown)
        near = [k for k in keys if key and (key in k or k in key) and len(k) > 1]
        near += [k for k in difflib.get_close_matches(key, keys, n=n * 2, cutoff=0.4)
                 if k not in near]
        found: list[tuple[str, str]] = []
        for k in near:
            shown = self.shown[k]
            if shown[1] not in {bureau for _, bureau in found}:
                found.append(shown)
        return tuple(found[:n])


# --- import lines: bureaus named by name -------------------------------------------------------
@cache
def bureau_fields() -> dict[str, tuple[tuple[str, bool], ...]]:
    """Each command type's fields that name bureaus: (field, whether it is a list)."""
    from .vocabulary import command_forms  # the forms know which fields ask for a bureau

    return {form.type: tuple((f.name, f.input == "bureaus") for f in form.fields
                             if f.input in ("bureau", "bureaus"))
            for form in command_forms()}


def resolve_line(data: dict[str, Any], index: NameIndex) -> dict[str, Any] | Unresolved:
    """A command's JSON with every bureau it names by a name given by its id: a value that is
    an id stays (whether it is registered is the kernel's to say); a name is looked up; the
    first name that means no bureau, or several, is why not. The actor's bureau too."""
    fields = bureau_fields().get(str(data.get("type")), ())
    out = dict(data)
    for name, many in fields:
        value = out.get(name)
        values = value if many and isinstance(value, list) else [value]
        resolved = []
        for item in values:
            found = _resolved(item, index)
            if isinstance(found, Unresolved):
                return found
            resolved.append(found)
        if value is not None:
            out[name] = resolved if many and isinstance(value, list) else resolved[0]
    actor = out.get("actor")
    if isinstance(actor, dict) and actor.get("bureau") is not None:
        found = _resolved(actor["bureau"], index)
        if isinstance(found, Unresolved):
            return found
        out["actor"] = {**actor, "bureau": found}
    return out


def _resolved(value: Any, index: NameIndex) -> Any:
    """A registered id as it is; else the bureau a name means; else an id-shaped value as it
    is (the kernel knows the bureaus registered since the index was made); else why not."""
    if not isinstance(value, str) or value in index.standing.get(norm(value), ()):
        return value
    found = index.resolve(value)
    if isinstance(found, Unresolved) and not found.candidates and _ID.match(value):
        return value
    return found


# --- a bureau's name and lineage as of a date ------------------------------------------------
def name_on(bureau: Bureau, day: date) -> tuple[str, str]:
    """Its name and English name ("" where it had none) as of `day`."""
    named = bureau.named_on(day)
    return named.name, named.name_en


def _named_on(bureau: Bureau, day: date) -> tuple[str, str]:
    """Its name as of `day`, in Chinese and in English (its Chinese name, where it had no
    English one)."""
    name, name_en = name_on(bureau, day)
    return name, name_en or name


def lineage(bureaus: Mapping[str, Bureau], bureau: str, day: date) -> tuple[str, str] | None:
    """What a report as of `day` says of the bureau's past, in Chinese and English, or None:
    the names it had before (原…), the bureaus merged into it by then (each as it was named
    then), and its own merger into another."""
    found = bureaus.get(bureau)
    if found is None:
        return None
    zh: list[str] = []
    en: list[str] = []
    current = found.named_on(day)
    earlier = [n for n in found.names if n.since <= day and n.name != current.name]
    for names in dict.fromkeys(n.name for n in earlier):
        zh.append(f"原{names}")
        en.append(f"formerly {_english(found, names)}")
    for other in sorted(bureaus.values(), key=lambda b: (b.merged_at is None, b.merged_at, b.id)):
        if other.merged_into == bureau and other.merged_at is not None \
                and business_date(other.merged_at) <= day:
            when = business_date(other.merged_at)
            name, name_en = _named_on(other, when)
            words = day_words(when)
            zh.append(f"{words[0]}起承接原{name}的办理工作")
            en.append(f"took over {name_en}'s duties on {words[1]}")
    if found.merged_into is not None and found.merged_at is not None \
            and business_date(found.merged_at) <= day:
        into = bureaus.get(found.merged_into)
        words = day_words(business_date(found.merged_at))
        into_zh, into_en = _named_on(into, day) if into else (found.merged_into,) * 2
        zh.append(f"{words[0]}并入{into_zh}")
        en.append(f"merged into {into_en} on {words[1]}")
    if not zh:
        return None
    return "；".join(zh), "; ".join(en)


def _english(bureau: Bureau, name: str) -> str:
    """The English name a bureau had while it bore the Chinese `name`."""
    return next((n.name_en for n in bureau.names if n.name == name and n.name_en), name)
