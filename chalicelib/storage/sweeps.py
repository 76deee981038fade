"""Scheduled sweeps that continue past one invocation: bounded pages, a cursor kept for the next run.

A sweep is a pass over partitions (tenants, index shards), each read as a Query in pages of at most
PAGE_ITEMS. After every page its position (the partition and DynamoDB's LastEvaluatedKey) is saved on
the job's cursor item; when the invocation's budget is spent the run ends there and the next run of
the same job takes up the pass at that position; a pass that reaches the end deletes the cursor, so the
run after it begins a new one. No work is lost: the position is saved before the run can stop, and
the indexes swept are sparse (an item leaves once handled), so what a failed page left undone is met
again. Nothing done twice harms: each item is handled under a condition (retention shreds only what
is still closed and unshredded; a survey is claimed with a conditional put).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from ..runtime import Budget, runtime
from .base import TableModel, table_meta

PAGE_ITEMS = 100  # items read per Query: a saved position is never more than a page behind
P = TypeVar("P")


class JobCursorModel(TableModel):
    """Where a sweep's unfinished pass stands, one item per job."""
    Meta = table_meta("job-cursors")
    job = UnicodeAttribute(hash_key=True)
    partition = UnicodeAttribute()  # the partition the pass is in
    after = JSONAttribute(null=True)  # DynamoDB's LastEvaluatedKey within it (None: from its start)
    saved_at = UTCDateTimeAttribute()


class Sweep(Generic[P]):
    """One run's share of a job's pass: `pages()` yields each partition's items a page at a time."""

    def __init__(self, job: str, budget: Budget) -> None:
        self.job, self._budget = job, budget
        try:
            self._cursor: JobCursorModel | None = JobCursorModel.get(job, consistent_read=True)
        except DoesNotExist:
            self._cursor = None
        self.resumed_at = self._cursor.partition if self._cursor else None  # where the pass takes up
        self.done = 0  # Queries and items this run: what the budget counts
        self.finished = False  # the pass reached its end in this run
        self.stopped_in: str | None = None  # the partition this run stopped in (its budget spent), if it did

    def pages(self, partitions: Callable[[str | None], Iterable[P]], key_of: Callable[[P], str],
              query: Callable[[P, dict[str, Any] | None, int], Any]) -> Iterator[tuple[P, list[Any]]]:
        """partitions(resume_at) lists the partitions in a fixed order from resume_at (all when None);
        query(partition, after, limit) is the partition's Query from `after` (a pynamodb result iterator)."""
        for partition in partitions(self.resumed_at):
            after = self._cursor.after if self._cursor and self._cursor.partition == key_of(partition) else None
            while True:
                if self._budget.spent(self.done):
                    self._save(key_of(partition), after)
                    self.stopped_in = key_of(partition)
                    return
                results = query(partition, after, PAGE_ITEMS)
                items = list(results)
                self.done += 1 + len(items)
                yield partition, items
                after = results.last_evaluated_key
                if after is None:
                    break
                self._save(key_of(partition), after)
        self.finished = True
        if self._cursor is not None:
            self._cursor.delete()

    def _save(self, partition: str, after: dict[str, Any] | None) -> None:
        self._cursor = JobCursorModel(self.job, partition=partition, after=after, saved_at=runtime().clock.utcnow())
        self._cursor.save()
