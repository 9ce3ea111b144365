"""The exception types main.py turns into one line (never a traceback), and how an OS error
is named in that line."""

import errno

# errors that mean the disk (or a limit on it) refused a write, not a bug: one line, exit 2
DISK_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EIO}


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


def os_reason(exc: OSError) -> str:
    """"ENOSPC: No space left on device": the errno's name and its text."""
    if not exc.errno:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{errno.errorcode.get(exc.errno, exc.errno)}: {exc.strerror}"


def write_failed(path: object, exc: OSError) -> UserError:
    """The one line for a write that the disk refused: what was saved before stays."""
    return UserError(f"cannot write {path} ({os_reason(exc)}); what was saved before is intact "
                     "(the last checkpoint included): free space and run the same command again")
