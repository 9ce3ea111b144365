"""The one exception type that means "the user asked for something we cannot do"."""


class UserError(Exception):
    """A mistake in the user's input (flag value, missing run, bad checkpoint).

    main.py prints its message as one line and exits with code 2; it never shows a traceback.
    """


class TrainingInterrupted(Exception):
    """Ctrl-C during training, after the checkpoint was saved: main.py prints it, exits 130."""
