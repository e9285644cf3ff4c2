"""The generative questions, as versioned sets defined in code.

A question keeps its id in every version it appears in, so answers written years apart can be
compared. Every published version stays answerable: a reflection names the version it answers,
and the app can always show a past reflection next to the questions it answered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    """One question: a stable id, its text, and the theme it belongs to."""

    id: str
    text: str
    theme: str  # "care": the generative questions; "transition": the next step


@dataclass(frozen=True)
class QuestionSet:
    """A published version of the questions."""

    version: int
    questions: tuple[Question, ...]

    def question_ids(self) -> frozenset[str]:
        """The ids a reflection on this version may answer."""
        return frozenset(q.id for q in self.questions)


_GENERATIVE = (
    Question(
        "care", "What do you care about so much that you would keep taking care of it for years?", "care"
    ),
    Question("destination", "Where are you going on this journey?", "care"),
    Question("why", "Why are you going there?", "care"),
    Question("arrival", "How will you know when you get there?", "care"),
    Question("worth", "Where is it worth going to, for you and for the people you serve?", "care"),
    Question("for-the-sake-of", "For the sake of what do you make your promises and keep learning?", "care"),
)

_TRANSITION = (
    Question("new-skills", "Which new skills will your next step ask of you?", "transition"),
    Question(
        "old-habits",
        "Which habits that served you well so far could become barriers on the next step?",
        "transition",
    ),
    Question("fears", "Which fears, or which politics, stand in the way of the next step?", "transition"),
)

QUESTION_SETS: dict[int, QuestionSet] = {
    1: QuestionSet(1, _GENERATIVE),
    2: QuestionSet(2, _GENERATIVE + _TRANSITION),
}
CURRENT_VERSION = max(QUESTION_SETS)


def question_set(version: int | None = None) -> QuestionSet | None:
    """The set of that version (the current one when None); None for a version never published."""
    return QUESTION_SETS.get(CURRENT_VERSION if version is None else version)
