"""The one exception type that means "the user asked for something we cannot do"."""


class UserError(Exception):
    """A mistake in the user's input (flag value, missing run, bad checkpoint).

    main.py prints its message as one line and exits with code 2; it never shows a traceback.
    """


class TrainingInterrupted(Exception):
    """Ctrl-C or SIGTERM during training: main.py prints the message and exits with ``code``
    (128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM)."""

    def __init__(self, message: str, code: int = 130) -> None:
        super().__init__(message)
        self.code = code
