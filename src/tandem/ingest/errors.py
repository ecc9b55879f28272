"""Problems found in an export, and the error that carries them.

Imports are all-or-nothing: a reader collects every problem it can find (up to
``MAX_PROBLEMS``) and raises one :class:`IngestError` listing them; it returns frames only
when there are none.

Row numbers count the way a person reading the file in a spreadsheet does: the header is
row 1 and the first data row is row 2 (for CSV a row is a record, so a quoted value spanning
two lines still counts once). ``row=None`` means the problem concerns the whole file and
``column=None`` the whole row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: Collection stops after this many problems; the error says that more may exist.
MAX_PROBLEMS = 1_000
#: ``str(IngestError)`` lists this many problems, then says how many more there are.
SHOWN_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    row: int | None  # 1-based, header = row 1; None: the whole file
    column: str | None  # as named in the file; None: the whole row or file
    reason: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.reason}"


@dataclass(frozen=True, slots=True)
class DateHint:
    """What the file's timestamps say about their format, when they could not all be read
    (or could be read more than one way): for a caller that offers a choice of format.

    ``columns``: the file's columns with unreadable or ambiguous values; ``readable``: the
    names of the common formats (``tandem.ingest.dates.CANDIDATES``) that read every
    timestamp of the file; ``ambiguous``: those formats read some value differently (e.g.
    day first and month first when no day is over 12), so one must be chosen."""

    columns: tuple[str, ...]
    readable: tuple[str, ...]
    ambiguous: bool


class IngestError(Exception):
    """An export that cannot be imported; ``problems`` says where and why, and ``dates``
    (when timestamps were the trouble) which date formats would read them."""

    def __init__(
        self,
        problems: Iterable[Problem],
        *,
        truncated: bool = False,
        dates: DateHint | None = None,
    ) -> None:
        self.problems: list[Problem] = list(problems)
        #: True when collection stopped at MAX_PROBLEMS: there may be more.
        self.truncated = truncated
        self.dates = dates
        super().__init__(self._message())

    def _message(self, shown: int = SHOWN_PROBLEMS) -> str:
        n = len(self.problems)
        count = f"{n}{'+' if self.truncated else ''}"
        head = f"{count} problem{'s' if n != 1 else ''} found; nothing was imported"
        lines = [head, *(f"  {p}" for p in self.problems[:shown])]
        rest = n - shown
        if rest > 0 or self.truncated:
            more = f"{rest if rest > 0 else 0}{' or more' if self.truncated else ''}"
            lines.append(f"  ... and {more} more (row numbers count the header as row 1)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._message()


class ReadingStopped(Exception):
    """A reader stopped because its ``Limits.deadline`` passed: the reading took too long.

    Not an :class:`IngestError`: nothing is wrong with the file, and a caller that
    collects problems must not show this as one. Whoever set the deadline handles it."""

    def __init__(self, file: str, budget: float | None = None) -> None:
        self.file = file
        self.budget = budget
        took = f"longer than {budget:g} s" if budget is not None else "past its deadline"
        super().__init__(f"{file}: stopped: the reading took {took}; nothing was imported")


@dataclass
class Problems:
    """Collects problems for one file, stopping at ``limit``.

    ``summaries``: a few problems that sum up many (one per timestamp column whose values do
    not read, :mod:`tandem.ingest.dates`), listed first and outside the ``limit``."""

    file: str
    limit: int = MAX_PROBLEMS
    items: list[Problem] = field(default_factory=list)
    truncated: bool = False
    #: Set by the timestamp parser when values did not read (see :class:`DateHint`).
    dates: DateHint | None = None
    summaries: list[Problem] = field(default_factory=list)

    def add(self, row: int | None, column: str | None, reason: str) -> None:
        if len(self.items) >= self.limit:
            self.truncated = True
            return
        self.items.append(Problem(self.file, row, column, reason))

    def add_summary(self, row: int | None, column: str | None, reason: str) -> None:
        self.summaries.append(Problem(self.file, row, column, reason))

    def add_rows(self, rows: Iterable[int], column: str | None, reason: str) -> None:
        for row in rows:
            if len(self.items) >= self.limit:
                self.truncated = True
                return
            self.items.append(Problem(self.file, row, column, reason))

    @property
    def room(self) -> int:
        """How many more problems fit: readers fetch at most this many failing rows."""
        return max(self.limit - len(self.items), 0) + 1  # one more marks "truncated"

    def __bool__(self) -> bool:
        return bool(self.items or self.summaries)

    def error(self) -> IngestError:
        """The error carrying every problem so far, summaries first."""
        return IngestError(
            [*self.summaries, *self.items], truncated=self.truncated, dates=self.dates
        )

    def raise_if_any(self) -> None:
        if self:
            raise self.error()

    def fail(self, row: int | None, column: str | None, reason: str) -> IngestError:
        """Add one problem and return the error to raise at once (a file-level stop)."""
        self.add(row, column, reason)
        return self.error()
