"""`StartupError`: light on purpose — `crm-bot --help` imports it without loading the app."""

from __future__ import annotations


class StartupError(Exception):
    """Start-up cannot go on; the message is one line for the operator."""
