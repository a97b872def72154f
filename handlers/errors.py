"""User-facing errors. A service raises one of these; the router turns it into a translated `Error` view.

`key` is a message key of the translation catalogs; `params` fill its placeholders. Never put exception
text, SQL or user-invisible details here: what a `UserError` says is shown to the user as it is.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix or must be told; rendered as a short reply in their language."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class NotFound(UserError):
    """The record does not exist, or the actor may not see it (the two must look the same)."""


class Forbidden(UserError):
    """The actor may see the record but may not do this to it."""


class InvalidInput(UserError):
    """The input could not be understood; the message says what works instead."""


class Conflict(UserError):
    """The state changed under the user (already assigned, already rated, …)."""
