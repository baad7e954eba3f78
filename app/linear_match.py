"""Patterns matched without backtracking: a small Thompson NFA simulated over the text.

Why: globs come from `align.yaml`, which a pull request writes. Compiled to backtracking regexes, a glob
with many `*` ("a*a*a*a*b") takes exponential time on a long token while holding the GIL. Simulating
every state at once costs (text length) x (pattern length) steps, whatever the pattern.
"""

from __future__ import annotations

from collections.abc import Callable

CharTest = Callable[[str], bool]
_MAX_SEEN = 4096  # cached DFA steps per NFA


def chars(members: str) -> CharTest:
    """A test for one of `members`."""
    return frozenset(members).__contains__


def any_but(excluded: str) -> CharTest:
    """A test for any character except those of `excluded`."""
    banned = frozenset(excluded)
    return lambda c: c not in banned


class Nfa:
    """Built piece by piece at its end; state 0 is the start, the last state accepts.

    `steps` counts (character, live state) pairs examined since the NFA was built: the work a match did,
    which tests use to prove it linear."""

    def __init__(self) -> None:
        self._moves: list[list[tuple[CharTest, int]]] = [[]]  # consuming moves of each state
        self._skips: list[list[int]] = [[]]  # epsilon moves of each state
        self.steps = 0
        # (live states, character) -> next live states: the DFA built as the text asks for it, so a long
        # token costs a dictionary lookup per character once its few state sets have been met.
        self._seen: dict[tuple[frozenset[int], str], frozenset[int]] = {}

    @property
    def last(self) -> int:
        return len(self._moves) - 1

    def _new(self) -> int:
        self._moves.append([])
        self._skips.append([])
        return self.last

    def one(self, test: CharTest) -> Nfa:
        start = self.last
        self._moves[start].append((test, self._new()))
        return self

    def optional(self, test: CharTest) -> Nfa:
        start = self.last
        self.one(test)
        self._skips[start].append(self.last)
        return self

    def star(self, test: CharTest) -> Nfa:
        """Zero or more: a looping state of its own, left by an epsilon move to a state without a loop (so
        that two stars in a row stay in order, and a skip to the end of a group does not land in a loop)."""
        start = self.last
        loop = self._new()
        self._skips[start].append(loop)
        self._moves[loop].append((test, loop))
        self._skips[loop].append(self._new())
        return self

    def plus(self, test: CharTest) -> Nfa:
        return self.one(test).star(test)

    def skip_from(self, state: int) -> Nfa:
        """Make what was appended since `state` optional (a group followed by `?`)."""
        self._skips[state].append(self.last)
        return self

    def _closure(self, states: set[int]) -> frozenset[int]:
        todo = list(states)
        while todo:
            for target in self._skips[todo.pop()]:
                if target not in states:
                    states.add(target)
                    todo.append(target)
        return frozenset(states)

    def _step(self, states: frozenset[int], char: str) -> frozenset[int]:
        self.steps += len(states)
        key = (states, char)
        found = self._seen.get(key)
        if found is None:
            following = {target for state in states for test, target in self._moves[state] if test(char)}
            found = self._closure(following)
            if len(self._seen) >= _MAX_SEEN:
                self._seen.clear()  # bounded memory, whatever the text
            self._seen[key] = found
        return found

    def fullmatch(self, text: str) -> bool:
        states = self._closure({0})
        for char in text:
            states = self._step(states, char)
            if not states:
                return False
        return self.last in states

    def longest_match(self, text: str, start: int, end_ok: Callable[[int], bool]) -> int:
        """The end of the longest non-empty match starting at `start` whose end satisfies `end_ok`, or -1.
        Stops as soon as no state is live, so the work is bounded by how far the pattern can reach."""
        states = self._closure({0})
        best = -1
        accept = self.last
        for index in range(start, len(text)):
            states = self._step(states, text[index])
            if not states:
                break
            if accept in states and end_ok(index + 1):
                best = index + 1
        return best
