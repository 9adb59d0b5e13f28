"""Errors a shop-floor user can read, each carrying the exit code the CLI returns.

Domain code raises these; only the CLI turns them into one ``Error: ...`` line on
stderr and an exit code. Every refusal happens before anything is written, or inside
the command's single transaction, which is then rolled back: a refused command
changes nothing.
"""


class MfgError(Exception):
    """Refused: the request was understood but breaks a rule; nothing changed."""

    exit_code = 1


class NotFound(MfgError):
    """An item, location, lot, BOM revision... that does not exist."""


class InvalidInput(MfgError):
    """A value that cannot be used: a bad quantity, code, unit or date."""


class RuleViolation(MfgError):
    """A request that is well formed but breaks a rule (not enough stock...)."""


class ImportInvalid(MfgError):
    """An import file with problems; carries every problem found, not only the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        n = len(problems)
        super().__init__(f"import refused: {n} problem{'s' if n != 1 else ''}; nothing was written")


class DatabaseBusy(MfgError):
    """Another process held the write lock past the busy timeout."""

    exit_code = 5


class DatabaseUnusable(MfgError):
    """Missing, not an mfgctl database, from a newer mfgctl, or not writable."""

    exit_code = 6


class ChecksFailed(MfgError):
    """``mfgctl check`` found errors (or, with ``--strict``, warnings); they are listed
    on stdout and this one line sums them up on stderr."""

    exit_code = 4
