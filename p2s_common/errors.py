"""Errors a user can fix. Every CLI of the project prints a `UserError` as one line and exits with code 2.

Packages define their own subclasses where the error belongs (materials_db.graph.GraphError,
materials_db.twins.backend.BackendChoiceError); the CLIs catch only this base.
"""


class UserError(Exception):
    """A wrong input or set-up: the message is one line naming the problem and the fix (no traceback shown)."""


class InputError(UserError):
    """Bad input: the message names the problem and the fix."""


class SetupError(UserError):
    """The machine lacks something (a library, model weights): the message says what and how to get it."""
