"""The projects page as the benchmark compares it across strategies: 20 cards.

Every strategy (naive, floor, the server with either stats source) must produce the same
cards for the same viewer before any of them is timed, or the timings compare different
work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from domain.vocabulary import NodeType
from resolvers.ids import decode

PAGE = 20  # the front end's projects page


@dataclass(frozen=True, slots=True)
class Card:
    id: uuid.UUID
    owner_username: str | None
    session_count: int
    thumbnail_url: str | None


def cards_from_api(body: dict[str, Any]) -> list[Card]:
    """The cards of a `projects` response (global ids decoded to project ids)."""
    return [
        Card(
            id=decode(edge["node"]["id"], NodeType.PROJECT),
            owner_username=edge["node"]["owner"]["username"],
            session_count=edge["node"]["sessionCount"],
            thumbnail_url=edge["node"]["thumbnailUrl"],
        )
        for edge in body["data"]["projects"]["edges"]
    ]


class Disagreement(Exception):
    """Two strategies answered the projects page differently; the message says where."""


def check_agreement(pages: dict[str, list[Card]]) -> None:
    """Raises `Disagreement` unless every strategy gave the same non-empty cards."""
    (first_name, first), *others = pages.items()
    if not first:
        raise Disagreement(f"{first_name} answered no cards: the viewer sees no project")
    for name, cards in others:
        if cards == first:
            continue
        lines = [f"{name} and {first_name} disagree on the projects page:"]
        for n in range(max(len(cards), len(first))):
            mine = cards[n] if n < len(cards) else None
            theirs = first[n] if n < len(first) else None
            if mine != theirs:
                lines.append(f"  card {n + 1}: {name} {mine} / {first_name} {theirs}")
        raise Disagreement("\n".join(lines))
