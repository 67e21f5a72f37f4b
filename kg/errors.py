"""The errors every part of kg raises: a failure with its exit code, a refusal with its HTTP status, and where."""

from __future__ import annotations

from typing import NamedTuple

OK, NONCONFORMING, BAD_INPUT, ENVIRONMENT, INTERNAL_ERROR = 0, 1, 2, 3, 4  # the `kg` command's exit codes


class Where(NamedTuple):
    """Where a problem lies: a file and, when known, a line (or a row of a bulk file)."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class Failure(Exception):
    """Something kg cannot do, in words for the user; the `kg` command exits with `exit_code` (main maps it)."""

    exit_code = BAD_INPUT

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    def lines(self) -> list[str]:
        """What the command line says of it, one line each."""
        return [str(self)]


class Refusal(Failure):
    """A request kg will not or cannot answer; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
