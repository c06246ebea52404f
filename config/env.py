"""The one place that reads the environment (django-environ); settings import ``env`` from here."""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env (never committed; see .env.example) is read when present. Real environment
# variables win over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# Read here rather than in settings.py: the defaults of several settings modules depend on it.
DEBUG = env.bool("DEBUG", default=False)
