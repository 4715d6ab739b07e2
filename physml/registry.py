"""Name → class registries used to rebuild terms and providers from model files.

A model file stores, for each component, ``{"kind": name, "config": {...}}``; loading looks
the name up here and calls ``cls.from_config(config, species)``. Nothing is executed from the
file itself (it is data, never code).
"""

from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")

TERMS: dict[str, type] = {}
PROVIDERS: dict[str, type] = {}


def _registrar(table: dict[str, type], what: str, name: str) -> Callable[[type[T]], type[T]]:
    def deco(cls: type[T]) -> type[T]:
        if name in table and table[name] is not cls:
            raise ValueError(f"{what} kind {name!r} registered twice")
        table[name] = cls
        cls.kind = name  # type: ignore[attr-defined]
        return cls

    return deco


def register_term(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: register an analytic term under ``name`` (its ``kind``)."""
    return _registrar(TERMS, "term", name)


def register_provider(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: register a parameter provider under ``name`` (its ``kind``)."""
    return _registrar(PROVIDERS, "provider", name)


def _ensure_loaded() -> None:
    # importing the packages registers their classes
    import physml.empirical  # noqa: F401
    import physml.ml  # noqa: F401


def term_class(name: str) -> type:
    _ensure_loaded()
    try:
        return TERMS[name]
    except KeyError:
        raise ValueError(f"unknown term kind {name!r}; known: {sorted(TERMS)}") from None


def provider_class(name: str) -> type:
    _ensure_loaded()
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ValueError(f"unknown provider kind {name!r}; known: {sorted(PROVIDERS)}") from None
