"""The two schema histories (platform, tenant): their models, their Alembic configuration and their heads."""

from __future__ import annotations

import importlib
import os
from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory

from tenants.db import PlatformBase, TenantBase

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Every module that declares tables. A new area adds its models module here so that metadata, migrations and
# provisioning see its tables.
MODEL_MODULES = (
    "tenants.models",
    "blueprints.accounts.models",
    "blueprints.audit.models",
    "blueprints.tasks.models",
    "blueprints.messages.models",
    "tenants.storage",
    "blueprints.accounts.throttle",
    "blueprints.staff.models",
    "blueprints.privacy.models",
    "blueprints.participants.models",
    "blueprints.trainings.models",
    "blueprints.signing.models",
    "blueprints.documents.models",
)

KINDS = {"platform": PlatformBase.metadata, "tenant": TenantBase.metadata}


def load_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)


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
    load_models()
    return KINDS[kind]
