"""The two schema histories (platform, tenant): their models, their Alembic configuration and their heads."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from types import ModuleType

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session

from tenants import models, storage  # noqa: F401 - the ground's own tables
from tenants.db import PlatformBase, TenantBase

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The ground declares its own tables (tenants.models, tenants.storage); each area registers the modules that
# declare its tables, and the rows a new schema needs, when the app is made (``blueprints.register_areas``).
# The ground never names an area.
_MODELS: dict[str, ModuleType] = {}
_SEEDS: dict[str, dict[str, Callable[[Session], object]]] = {"platform": {}, "tenant": {}}

KINDS = {"platform": PlatformBase.metadata, "tenant": TenantBase.metadata}


def register_models(*modules: ModuleType) -> None:
    """Tables declared in ``modules`` belong to the metadata, the migrations and provisioning."""
    for module in modules:
        _MODELS[module.__name__] = module


def register_seed(kind: str, seed: Callable[[Session], object]) -> None:
    """``seed(session)`` fills a new schema of ``kind``: the platform's when it is built or upgraded, a tenant's
    when it is provisioned. It must be safe to run twice; the caller commits."""
    _SEEDS[kind][f"{seed.__module__}.{seed.__qualname__}"] = seed


def run_seeds(kind: str, session: Session) -> None:
    for seed in _SEEDS[kind].values():
        seed(session)


def registered_models() -> tuple[str, ...]:
    return tuple(_MODELS)


@cache
def alembic_config(kind: str) -> Config:
    config = Config()
    config.set_main_option("script_location", os.path.join(ROOT, "migrations", kind))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.path.join(ROOT, "migrations", kind, "versions"))
    return config


@cache
def head(kind: str) -> str:
    return ScriptDirectory.from_config(alembic_config(kind)).get_current_head()


def metadata(kind: str):
    if not _MODELS:
        raise RuntimeError("no area registered its tables: make the app first (app.create_app)")
    return KINDS[kind]
