"""The library's exceptions: one base class, so a caller can catch everything the library means.

Every message is one Chinese text a finance officer can act on (where — what — how to fix). The
library never names a command-line flag; the CLI adds those where it helps.
"""

from __future__ import annotations


class PerfevalError(Exception):
    """Base of every problem the library reports to its caller."""


class UsageError(PerfevalError):
    """A bad option value or setting (a profile, a configuration file): exit code 2 in the CLI."""


class MailError(PerfevalError):
    """A mail problem the user can fix (batch file, record, SMTP server)."""


class OutboxBusy(PerfevalError):
    """Another batch or watch is writing the same OUTBOX."""


class WorkerStartError(PerfevalError):
    """The worker processes of a batch cannot start at all (no file is to blame)."""


class ProfileError(UsageError, ValueError):
    """A profile that cannot be used; the message names the file and the field."""


class ConfigError(UsageError, ValueError):
    """A setting that cannot be used; the message is one Chinese sentence for the user."""


class TemplateError(UsageError, ValueError):
    """A report wording template that cannot be used; the message names the file and the key."""


class DefinitionError(PerfevalError, ValueError):
    """A sample definition that does not describe a form."""


class FileProblem(PerfevalError):
    """A file that cannot be read as a form: one finding code and its Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message
