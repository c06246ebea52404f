"""The chat platforms' modules (one per ``ChatApp.Kind``), each defining ``PLATFORM`` (the
``integrations.chat.platform.Platform``), ``SETTINGS`` (its ``integrations.setting.Setting``s:
the keys of ``ChatApp.config`` it reads and, ``secret=True``, the credentials it needs) and
``DEFAULT_BASE_URL``. Imported on first use."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from integrations.chat.platform import Platform

KINDS = ("feishu", "dingtalk", "wecom")


def module_for(kind: str) -> ModuleType:
    if kind not in KINDS:
        raise LookupError(kind)
    return import_module(f"integrations.chat.platforms.{kind}")


def platform_for(kind: str) -> Platform:
    platform: Platform = module_for(kind).PLATFORM
    return platform
