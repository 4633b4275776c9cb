"""Two caches with one interface, for the purge model: `Lazy` records a purge as a
timestamped rule that every read checks; `Active` deletes at purge time through a
tag index. Time is a logical clock of ticks; an entry lives MAX_AGE ticks."""

from __future__ import annotations

import bisect
from collections import defaultdict, deque

MAX_AGE = 500


class Lazy:
    """Purge = a timestamped rule; a read misses if a rule as new names its tag
    (within a tick, puts come before purges)."""

    def __init__(self) -> None:
        self.entries: dict[int, tuple[int, int]] = {}  # url -> (inserted, tag)
        self.rules: list[tuple[int, int]] = []  # (time, tag), in time order
        self.puts: deque[tuple[int, int]] = deque()  # (time, url), oldest first

    def put(self, now: int, url: int, tag: int) -> None:
        self.entries[url] = (now, tag)
        self.puts.append((now, url))

    def purge(self, now: int, tag: int) -> None:
        self.rules.append((now, tag))

    def evict(self, now: int) -> list[tuple[int, int]]:
        """Drop entries put MAX_AGE ticks ago or more; return (url, tag) of each."""
        gone = []
        while self.puts and now - self.puts[0][0] >= MAX_AGE:
            when, url = self.puts.popleft()
            if self.entries.get(url, (None,))[0] == when:  # not put again since
                gone.append((url, self.entries.pop(url)[1]))
        return gone

    def expire(self, now: int) -> None:  # a rule can go once no entry predates it
        self.evict(now)
        keep = bisect.bisect_left(self.rules, (now - MAX_AGE + 1, -1))
        self.rules = self.rules[keep:]

    def get(self, url: int) -> tuple[bool, int]:
        if url not in self.entries:
            return False, 1
        inserted, tag = self.entries[url]
        newer = self.rules[bisect.bisect_left(self.rules, (inserted, -1)):]
        return all(t != tag for _, t in newer), 1 + len(newer)


class Active(Lazy):
    """Purge = delete now: the tag index names every entry to drop."""

    def __init__(self) -> None:
        super().__init__()
        self.index: dict[int, set[int]] = defaultdict(set)  # tag -> urls

    def put(self, now: int, url: int, tag: int) -> None:
        if url in self.entries:
            self.index[self.entries[url][1]].discard(url)
        super().put(now, url, tag)
        self.index[tag].add(url)

    def purge(self, now: int, tag: int) -> None:
        for url in self.index.pop(tag, set()):
            del self.entries[url]

    def expire(self, now: int) -> None:
        for url, tag in self.evict(now):
            self.index[tag].discard(url)

    def get(self, url: int) -> tuple[bool, int]:
        return url in self.entries, 1
