"""Errors a user can fix. The CLI prints them as one line and exits with code 2."""


class InputError(Exception):
    """Bad input: the message names the problem and the fix."""


class SetupError(Exception):
    """The machine lacks something (a library, model weights): the message says what and how to get it."""
