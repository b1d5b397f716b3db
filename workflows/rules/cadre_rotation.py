"""Rotation (交流): is an ordinary township cadre due to move, as of a date?

The county's rule (the seed): ordinary cadres who have worked a number of years or more in
the same township are rotated. The years and which ranks count as ordinary cadres are the
policy's (``policy.cadre.rotation``); this module reads a person's posts held and applies
them.

How the years are counted:

- Only the stint in the township the person works in on the day asked about counts, and
  only while it is unbroken: posts in the same township (in one unit or several, one after
  the other or at once) join when the next begins at the latest on the day after the last
  one ended. A gap of even one day starts the count again; years in another township, or
  earlier years in this one before a move away, do not count.
- The years are completed on the anniversary of the stint's first day, as an age is:
  a stint begun on 2018-03-01 completes 8 years on 2026-03-01 (due that day), not on
  2026-02-28 (7 years 364 days). A stint begun on 29 February completes its years on
  28 February when the later year has no 29th (the civil code's rule for a period in
  years that ends in a month without the day).
- An ordinary cadre is one whose every post held on that day has a rank the policy lists;
  a person who also holds a post of another rank is not one.

A post's ``to_on`` is its last day (held that day); None means it is still held.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from workflows.rules.dates import add_months
from workflows.rules.errors import RuleViolation

RULE_POSTS = "rotation.posts"


@dataclass(frozen=True)
class Post:
    """One post held, as the register has it."""

    township: str | None  # None (or empty): not in a township, e.g. a county-level unit
    rank: str
    from_on: date
    to_on: date | None = None  # the last day held; None: held still


@dataclass(frozen=True)
class RotationCheck:
    due: bool
    ordinary: bool  # an ordinary cadre on the day asked about
    township: str | None  # the township of the unbroken stint counted
    since: date | None  # its first day
    due_on: date | None  # the day its years are completed
    reason: str  # in Chinese, for the list the department reads


def check_posts(posts: Iterable[Post]) -> None:
    for post in posts:
        if post.to_on is not None and post.to_on < post.from_on:
            raise RuleViolation(
                f"任职记录的止日 {post.to_on} 早于起日 {post.from_on}"
                f"（{_place(post.township)}，{post.rank}）",
                RULE_POSTS,
            )


def years_completed_on(since: date, years: int) -> date:
    """The anniversary on which a stint begun on ``since`` completes ``years`` years."""
    if years < 1:
        raise RuleViolation(f"交流年限为 {years} 年，至少应为 1 年", RULE_POSTS)
    return add_months(since, 12 * years)


def _township(post: Post) -> str | None:
    name = (post.township or "").strip()
    return name or None


def _place(township: str | None) -> str:
    return township if township else "非乡镇单位"


def _held_on(post: Post, day: date) -> bool:
    return post.from_on <= day and (post.to_on is None or post.to_on >= day)


def stint_start(posts: Sequence[Post], township: str, as_of: date) -> date | None:
    """The first day of the unbroken stint in ``township`` that includes ``as_of``, or None
    when no post there is held that day."""
    spans = sorted(
        (p.from_on, min(p.to_on or as_of, as_of))
        for p in posts
        if _township(p) == township and p.from_on <= as_of
    )
    start: date | None = None
    end: date | None = None
    for first, last in spans:
        if end is not None and first <= end + timedelta(days=1):
            end = max(end, last)
            continue
        start, end = first, last
    if start is None or end is None or end < as_of:
        return None
    return start


def rotation_due(
    posts: Sequence[Post], as_of: date, years: int, ordinary_ranks: Iterable[str]
) -> RotationCheck:
    """Whether the person is an ordinary cadre who, on ``as_of``, has worked ``years`` years
    or more without a break in the township he works in."""
    check_posts(posts)
    ranks = {r.strip() for r in ordinary_ranks}
    current = [p for p in posts if _held_on(p, as_of)]
    if not current:
        return RotationCheck(False, False, None, None, None, f"{as_of} 未在任何职务上")
    ordinary = all(p.rank.strip() in ranks for p in current)
    townships = {t for t in map(_township, current) if t is not None}
    stints = sorted(
        (start, township)
        for township in townships
        if (start := stint_start(posts, township, as_of)) is not None
    )
    if not stints:
        return RotationCheck(False, ordinary, None, None, None, f"{as_of} 不在乡镇工作")
    since, township = stints[0]
    due_on = years_completed_on(since, years)
    worked = f"自 {since} 起在{township}连续工作，{due_on} 满 {years} 年"
    if not ordinary:
        other = "、".join(sorted({p.rank for p in current if p.rank.strip() not in ranks}))
        return RotationCheck(
            False, False, township, since, due_on, f"不是一般干部（职级：{other}）；{worked}"
        )
    if as_of >= due_on:
        return RotationCheck(True, True, township, since, due_on, f"应交流：{worked}")
    return RotationCheck(False, True, township, since, due_on, f"未到交流年限：{worked}")
