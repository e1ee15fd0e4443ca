"""A small strict reader of JSON objects that names the failing field (`transcript[2].text`).

Every payload of the contract is read with it, and the service reads its own request bodies with
it too, so a bad field reads the same everywhere and the receiving side can answer a precise 4xx.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, overload

from handoff_component.contract.errors import ContractError
from handoff_component.contract.limits import MAX_LIST_LENGTH, MAX_NAME_LENGTH, MAX_SCORE_KEYS


class Reader:
    """Reads one JSON object strictly: known fields only, each of the type it must have.

    Used for every payload of the contract and by the service for its own request bodies, so
    errors read the same everywhere. One method per JSON type (`string`, `integer`, `number`,
    `boolean`, `list_of`, `object`, `raw_mapping`), named so that none shadows a builtin.
    """

    def __init__(self, data: Any, path: str = "", *, allow_unknown: bool = False) -> None:
        if not isinstance(data, Mapping):
            raise ContractError(path or None, "must be a JSON object")
        self.data = data
        self.path = path
        self.allow_unknown = allow_unknown
        self._seen: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def value(self, key: str, *, required: bool) -> Any:
        """The field as sent (None when absent), marked as read; the typed readers check it."""
        self._seen.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                raise ContractError(self.name(key), "is required")
            return None
        return self.data[key]

    def string(
        self,
        key: str,
        *,
        required: bool = True,
        max_length: int = MAX_NAME_LENGTH,
        allow_empty: bool = False,
        choices: Iterable[str] | None = None,
        default: str | None = None,
    ) -> Any:
        value = self.value(key, required=required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ContractError(self.name(key), "must be a string")
        check_storable_text(value, self.name(key))
        if not allow_empty and not value.strip():
            raise ContractError(self.name(key), "must not be empty")
        if len(value) > max_length:
            raise ContractError(self.name(key), f"is longer than {max_length} characters")
        if choices is not None:
            allowed = tuple(choices)
            if value not in allowed:
                raise ContractError(self.name(key), f"must be one of {', '.join(allowed)}")
        return value

    def integer(
        self,
        key: str,
        *,
        required: bool = True,
        minimum: int | None = None,
        maximum: int | None = None,
        default: int | None = None,
    ) -> Any:
        value = self.value(key, required=required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ContractError(self.name(key), "must be an integer")
        if minimum is not None and value < minimum:
            raise ContractError(self.name(key), f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise ContractError(self.name(key), f"must be at most {maximum}")
        return value

    def number(self, key: str, *, required: bool = True, default: float | None = None) -> Any:
        value = self.value(key, required=required)
        if value is None:
            return default
        return read_number(value, self.name(key))

    def boolean(self, key: str, *, required: bool = True, default: bool | None = None) -> Any:
        value = self.value(key, required=required)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ContractError(self.name(key), "must be true or false")
        return value

    def list_of(
        self,
        key: str,
        item: Callable[[Any, str], Any],
        *,
        required: bool = True,
        max_length: int = MAX_LIST_LENGTH,
    ) -> list[Any]:
        value = self.value(key, required=required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ContractError(self.name(key), "must be a list")
        if len(value) > max_length:
            raise ContractError(self.name(key), f"has more than {max_length} items")
        return [item(element, f"{self.name(key)}[{index}]") for index, element in enumerate(value)]

    @overload
    def object(self, key: str, *, required: Literal[True] = True) -> Reader: ...

    @overload
    def object(self, key: str, *, required: bool) -> Reader | None: ...

    def object(self, key: str, *, required: bool = True) -> Reader | None:
        value = self.value(key, required=required)
        if value is None:
            return None
        return Reader(value, self.name(key), allow_unknown=self.allow_unknown)

    def raw_mapping(self, key: str, *, required: bool = False) -> dict[str, Any]:
        """A free-form object (Rasa metadata, for example): checked to be an object, kept as is."""
        value = self.value(key, required=required)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ContractError(self.name(key), "must be a JSON object")
        return dict(value)

    def done(self) -> None:
        """Refuse fields nobody asked for: a typo must not be silently ignored."""
        if self.allow_unknown:
            return
        unknown = sorted(str(key) for key in self.data if key not in self._seen)
        if unknown:
            raise ContractError(self.name(unknown[0]), "is not a known field")


def read_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ContractError(name, "must be a number")
    if not math.isfinite(value):
        raise ContractError(name, "must be a finite number")
    return float(value)


def check_storable_text(value: str, name: str) -> None:
    """Refuse text no database column can hold as sent, naming the field, before anything is stored.

    A JSON body can escape a lone UTF-16 surrogate (`"\\ud800"`): that is no Unicode text and has
    no UTF-8 form, so storing it fails deep in the database driver. PostgreSQL's text type cannot
    hold U+0000 at all, so SQLite and PostgreSQL would disagree on it. Every other code point
    (RTL marks, combining sequences, emoji ZWJ sequences, 4-byte characters) is stored as sent.
    """
    if "\x00" in value:
        raise ContractError(name, "must not contain the NUL character (U+0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ContractError(
            name, "contains a lone UTF-16 surrogate, which is not valid Unicode text"
        ) from None


def string_item(max_length: int) -> Callable[[Any, str], str]:
    def read(value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise ContractError(name, "must be a string")
        check_storable_text(value, name)
        if len(value) > max_length:
            raise ContractError(name, f"is longer than {max_length} characters")
        return value

    return read


def read_scores(value: Any, name: str) -> dict[str, float]:
    """One turn's scores: a flat object of score name to number (sentiment, complexity, ...)."""
    if not isinstance(value, Mapping):
        raise ContractError(name, "must be a JSON object of score name to number")
    if len(value) > MAX_SCORE_KEYS:
        raise ContractError(name, f"has more than {MAX_SCORE_KEYS} scores")
    scores: dict[str, float] = {}
    for key, score in value.items():
        if not isinstance(key, str) or not key or len(key) > 64:
            raise ContractError(name, "score names must be non-empty strings up to 64 characters")
        scores[key] = read_number(score, f"{name}.{key}")
    return scores
