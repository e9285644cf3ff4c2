"""Learning-plan templates for the classic transitions, as versioned sets defined in code.

A plan records the template id and version it started from, and its items are the person's own
from then on. Templates can therefore improve (clearer words, better items) by publishing a new
version, without changing anyone's plan: every published version stays readable, so the app can
always show what a plan started from. A template keeps its id in every version it appears in.

The content carries the product's view of a career: a career is made of promises, advancing
means making bigger promises with and through others, the value of a promise is assessed by the
person it serves, and every new level asks for new skills, conversations and practices. Each
template names the obstacles of its transition as prompts the person answers: cliffs (a skill
gap), barriers (an old habit that becomes an obstacle) and dragons (a fear, or politics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# The profile's `currentLevel` / `targetLevel` values, in the order a career usually climbs them.
Level = Literal["expert", "team_lead", "manager", "executive", "leader"]
LEVELS: tuple[Level, ...] = get_args(Level)

ItemKind = Literal["skill", "practice", "reading", "course", "conversation", "experiment"]
ITEM_KINDS: tuple[ItemKind, ...] = get_args(ItemKind)

ObstacleKind = Literal["cliff", "barrier", "dragon"]
OBSTACLE_KINDS: tuple[ObstacleKind, ...] = get_args(ObstacleKind)

# The limits a plan item and an obstacle accept, so an item copied from a template always fits.
TITLE_MAX = 120
DETAIL_MAX = 500
PROMPT_MAX = 300


@dataclass(frozen=True)
class TemplateItem:
    """A starting item of a plan; a practice is something done on days and counted in streaks."""

    kind: ItemKind
    title: str
    detail: str


@dataclass(frozen=True)
class ObstaclePrompt:
    """A question that helps the person name one cliff, barrier or dragon of the transition."""

    kind: ObstacleKind
    prompt: str


@dataclass(frozen=True)
class PlanTemplate:
    """A published template: a starting point for the plan of one transition."""

    id: str
    version: int
    from_level: Level
    to_level: Level
    title: str
    summary: str
    items: tuple[TemplateItem, ...]
    obstacle_prompts: tuple[ObstaclePrompt, ...]


_EXPERT_TO_TEAM_LEAD = PlanTemplate(
    id="expert-to-team-lead",
    version=1,
    from_level="expert",
    to_level="team_lead",
    title="From expert to team lead: from doing the work to keeping promises with a team",
    summary=(
        "As an expert you were valued for what you could deliver yourself. As a team lead you are "
        "valued for the promises your team makes and keeps, which means asking clearly, listening "
        "for what each person cares about, and letting others do work you could do faster."
    ),
    items=(
        TemplateItem(
            "skill",
            "Make requests that can be answered",
            "Learn to ask so that the other person can say yes, no or make a counter-offer: who is "
            "asked, what exactly, the conditions of satisfaction and by when. A request that lacks "
            "them is a hope, and a team cannot coordinate on hopes.",
        ),
        TemplateItem(
            "practice",
            "Each day, make one complete request",
            "Each day, make at least one request to someone on your team that names the conditions "
            "of satisfaction and a due time, then note how it was answered. The size of the request "
            "does not matter; the habit does.",
        ),
        TemplateItem(
            "practice",
            "Each day, close one loop",
            "Each day, pick one promise made to you or by you and check where it stands: was "
            "completion reported, and did the person it was made to say whether they are satisfied? "
            "Ask for that assessment when it is missing.",
        ),
        TemplateItem(
            "conversation",
            "Ask each person on your team what they care about",
            "Hold a one-to-one with each person and ask what they care about in their work and where "
            "they want to go. Listen more than you speak, write down what you heard, and check it "
            "with them the next time you meet.",
        ),
        TemplateItem(
            "conversation",
            "Agree with your manager on what the team promises",
            "Ask your manager which promises the team is expected to make in the coming months and "
            "how they will assess them. Say what you think the team can take on, and settle on "
            "conditions of satisfaction you can both name.",
        ),
        TemplateItem(
            "skill",
            "Give grounded assessments, and ask for them",
            "Learn to say how you assess someone's work with its grounding (what you saw, against "
            "which standard, for the sake of what) and to ask how others assess your own promises "
            "without defending yourself.",
        ),
        TemplateItem(
            "experiment",
            "Hand over a task you are the best at",
            "Choose a piece of work you would normally do yourself and request it from someone "
            "else. Agree on what done looks like, stay available, and do not take it back. "
            "Afterwards, ask them and yourself what each of you learned.",
        ),
        TemplateItem(
            "reading",
            "Read about how requests and promises coordinate work",
            "Find a book or long article on coordinating action through conversations: requests, "
            "offers, promises and assessments, and what breaks when one of them is left vague. Note "
            "one idea you can try with your team this week.",
        ),
    ),
    obstacle_prompts=(
        ObstaclePrompt(
            "cliff",
            "Which skill of a team lead have you never needed as an expert: making requests, "
            "delegating, giving assessments, running a meeting? Which of them worries you most?",
        ),
        ObstaclePrompt(
            "cliff",
            "Which conversation with your team do you keep postponing because you do not yet know "
            "how to hold it?",
        ),
        ObstaclePrompt(
            "barrier",
            "When the team is late, do you step in and do the work yourself? What does that cost "
            "the team's learning, and your own time?",
        ),
        ObstaclePrompt(
            "barrier",
            "Which habits that made you a strong expert (working alone, always having the answer, "
            "perfecting every detail) now get in the way of the team's promises?",
        ),
        ObstaclePrompt(
            "dragon",
            "What are you afraid will happen if the team does a piece of work less well than you "
            "would have done it?",
        ),
        ObstaclePrompt(
            "dragon",
            "Whose reaction do you fear in your new role: former peers who now report to you, "
            "other leads, your manager? What would you ask of them if you were not afraid?",
        ),
    ),
)

_TEAM_LEAD_TO_MANAGER = PlanTemplate(
    id="team-lead-to-manager",
    version=1,
    from_level="team_lead",
    to_level="manager",
    title="From team lead to manager: promises kept across teams",
    summary=(
        "A manager makes promises that no single team can keep. They are kept through other "
        "leads, other teams and other functions, so the work moves from coordinating the people "
        "you see every day to designing how promises flow, and to listening for what the people "
        "above, beside and below you value."
    ),
    items=(
        TemplateItem(
            "skill",
            "Map how promises flow between teams",
            "Draw the recurring requests and promises between your teams and the teams they depend "
            "on: who asks, who promises, how completion is reported and who assesses it. Mark where "
            "promises get lost, or are made without anyone agreeing to them.",
        ),
        TemplateItem(
            "practice",
            "Each day, listen for one concern behind a request",
            "Each day, in one conversation with a lead, a peer or a customer, ask what matters most "
            "to them right now, and write down the concern you heard behind their words, not only "
            "the task they asked for.",
        ),
        TemplateItem(
            "conversation",
            "Agree with each lead on their team's promises",
            "With each team lead who reports to you, agree on the few promises their team makes "
            "this quarter, how completion will be reported and how you will assess it. Then ask "
            "what they need from you in return, and promise it.",
        ),
        TemplateItem(
            "conversation",
            "Ask your peers what they need from your teams",
            "Meet the managers whose work depends on yours. Ask what they would want your teams to "
            "promise and where past promises fell short. Offer what you can, and decline clearly "
            "what you cannot: a clean no keeps trust.",
        ),
        TemplateItem(
            "skill",
            "Coach leads instead of solving for them",
            "When a lead brings you a problem, ask before you answer: what did they promise, to "
            "whom, what stands in the way, which request could they make? The aim is leads who can "
            "make bigger promises without you in the room.",
        ),
        TemplateItem(
            "course",
            "Take a course on leading through other leaders",
            "Choose a course or programme on managing managers: delegating at scale, building trust "
            "between teams, running meetings where commitments actually get made. Prefer one with "
            "practice between the sessions.",
        ),
        TemplateItem(
            "experiment",
            "Let a lead make a promise on your behalf",
            "Pick one request from outside your area and let one of your leads negotiate and make "
            "the promise, with your backing. Afterwards, review with them what worked and what they "
            "would ask of you next time.",
        ),
        TemplateItem(
            "reading",
            "Read about organisations as networks of commitments",
            "Find a book or long article that describes an organisation as a network of requests "
            "and promises, and what happens when commitments are vague or unspoken. Note where your "
            "own area fits the description and where it does not.",
        ),
    ),
    obstacle_prompts=(
        ObstaclePrompt(
            "cliff",
            "Which promises of your area depend on teams you do not lead? Which conversations with "
            "them do you not yet know how to hold?",
        ),
        ObstaclePrompt(
            "cliff",
            "Can you say, for each of your teams, what it has promised and to whom? If not, which "
            "skill would let you see it?",
        ),
        ObstaclePrompt(
            "barrier",
            "Do you still lead one team closely while the others wait for you? Which habit of the "
            "team lead keeps you there?",
        ),
        ObstaclePrompt(
            "barrier",
            "Where do you still measure yourself by how busy you are, rather than by the promises "
            "your teams keep and how their customers assess them?",
        ),
        ObstaclePrompt(
            "dragon",
            "Which peer, or which politics between departments, makes you hesitate to ask for what "
            "your teams need?",
        ),
        ObstaclePrompt(
            "dragon",
            "What do you fear about leads who get things done differently from the way you would?",
        ),
    ),
)

_MANAGER_TO_EXECUTIVE = PlanTemplate(
    id="manager-to-executive",
    version=1,
    from_level="manager",
    to_level="executive",
    title="From manager to executive: promises made for the whole organisation",
    summary=(
        "An executive makes promises on behalf of the organisation, to customers, investors and "
        "communities, over horizons of years. The conversations change: declaring a direction, "
        "making offers before anyone asks, and negotiating with peers who each hold a part of the "
        "whole, so that others can make promises in the organisation's name."
    ),
    items=(
        TemplateItem(
            "skill",
            "Declare a direction others can commit to",
            "Learn to say where your part of the organisation is going, why, and how people will "
            "know it got there, in words others can turn into their own promises. Test it: can "
            "someone two levels away say what it asks of them?",
        ),
        TemplateItem(
            "practice",
            "Each day, ask: for the sake of what?",
            "Each day, before one decision or commitment, ask for the sake of what it is being made "
            "and who will assess its value. When the answer is unclear, the promise probably needs "
            "another conversation first.",
        ),
        TemplateItem(
            "conversation",
            "Ask customers what your organisation makes possible for them",
            "Talk with several customers, or the people closest to them, and ask what your "
            "organisation's promises enable in their work and where they fall short. Bring back "
            "what they value in their own words.",
        ),
        TemplateItem(
            "conversation",
            "Build a working alliance with one executive peer",
            "Choose a peer whose area you depend on, or who depends on yours. Ask what they care "
            "about and what they are trying to promise this year, look for where your promises "
            "could support theirs, and agree on one promise you make together.",
        ),
        TemplateItem(
            "skill",
            "Make offers, not only answer requests",
            "At this level people expect you to see what they will need before they ask. Learn to "
            "make offers: name a concern you have heard, propose what you would promise to take "
            "care of it, and invite a counter-offer.",
        ),
        TemplateItem(
            "reading",
            "Read about strategy as a set of commitments",
            "Find a book or long article that treats strategy as choices and commitments rather "
            "than as plans and targets. Compare it with how strategy is discussed where you work, "
            "and note one difference worth raising with your peers.",
        ),
        TemplateItem(
            "course",
            "Join a programme with executives from other organisations",
            "Choose a programme where you work on real situations alongside executives from other "
            "organisations. Hearing how others make promises at this scale shows what your own "
            "habits take for granted.",
        ),
        TemplateItem(
            "experiment",
            "Step out of one decision you still make",
            "Find a recurring decision you still make the way a manager would, and hand it to the "
            "person closest to the work, with the conditions it must satisfy. Watch for a month "
            "what happens to the speed and quality of that work.",
        ),
    ),
    obstacle_prompts=(
        ObstaclePrompt(
            "cliff",
            "Which conversations of an executive have you only watched others hold: with a board, "
            "with investors, with the press, with peers competing for the same resources?",
        ),
        ObstaclePrompt(
            "cliff",
            "Can you state your organisation's promises to its customers in a few sentences your "
            "peers would sign? What would you need to learn to do so?",
        ),
        ObstaclePrompt(
            "barrier",
            "Where do you still reach for detail and control, as a manager does, when the situation "
            "asks you to set a direction and trust others with the rest?",
        ),
        ObstaclePrompt(
            "barrier",
            "Which measures of success from your years as a manager (delivery, utilisation, your "
            "own teams' results) still decide how you spend your week?",
        ),
        ObstaclePrompt(
            "dragon",
            "Which struggles for power among executives do you see coming, and what are you afraid "
            "they will ask of you?",
        ),
        ObstaclePrompt(
            "dragon",
            "What would you declare about the future if you were not afraid of being wrong in "
            "front of your peers?",
        ),
    ),
)

_EXECUTIVE_TO_LEADER = PlanTemplate(
    id="executive-to-leader",
    version=1,
    from_level="executive",
    to_level="leader",
    title="From executive to leader: creating a future others choose to build",
    summary=(
        "A leader's promise is a future that others choose to join, inside the organisation and "
        "beyond it. It starts with leading yourself through situations no one has answers for, "
        "then declaring what is possible, experimenting with what is new, winning its adoption "
        "and coordinating the people who make it real, in a care worth dwelling in for years."
    ),
    items=(
        TemplateItem(
            "skill",
            "Declare the game and its strategy",
            "Learn to declare a future worth building: who it is for, what it will make possible "
            "for them, and which moves come first. A declaration opens conversations; it does not "
            "need every answer before you make it.",
        ),
        TemplateItem(
            "practice",
            "Each day, write what you took care of",
            "Each day, take a few minutes to write what you took care of and whether it was what "
            "you care about most. Over the weeks, look for the thread that links your days: it is "
            "the direction of your journey.",
        ),
        TemplateItem(
            "conversation",
            "Invite others into the future you declared",
            "Talk about the future you see with people outside your line of authority: partners, "
            "communities, customers, other organisations. Listen for what they care about, and ask "
            "what they would be willing to promise.",
        ),
        TemplateItem(
            "conversation",
            "Ask for an honest assessment of your leadership",
            "Ask several people who depend on you how they assess your leadership: what it makes "
            "possible for them and what it gets in the way of. Ask for the grounding of what they "
            "say, thank them, and defend nothing.",
        ),
        TemplateItem(
            "experiment",
            "Run a small test of something new",
            "Pick one idea (a new offer, a new practice, a new way of working) that nobody has ready "
            "answers for. Test it with a few people who care about it, agree beforehand on how you "
            "will assess it, and learn from the result either way.",
        ),
        TemplateItem(
            "skill",
            "Win adoption, not only approval",
            "Something new matters only once people take it up in their own work. Learn to find "
            "the first people who will adopt it, what it takes for them to make it their own, and "
            "how their success invites others in.",
        ),
        TemplateItem(
            "reading",
            "Read about leading through complexity and change",
            "Find a book or long article on leading when the world changes faster than the "
            "frameworks that used to explain it. Note one belief of your own that it calls into "
            "question.",
        ),
        TemplateItem(
            "course",
            "Learn something new as a beginner",
            "Take a course in a field far from your expertise and stay a beginner in it for a "
            "while. Notice how not knowing feels and what helps you keep learning anyway: creating "
            "the future means spending much of your time there.",
        ),
    ),
    obstacle_prompts=(
        ObstaclePrompt(
            "cliff",
            "Which parts of leading beyond your organisation (declaring a future, building a "
            "community, persuading people who owe you nothing) have you never practised?",
        ),
        ObstaclePrompt(
            "cliff",
            "Where do you lack the words to say which future you want to create and why it is worth "
            "building?",
        ),
        ObstaclePrompt(
            "barrier",
            "Where does the habit of authority get in the way with people who follow you only if "
            "they choose to?",
        ),
        ObstaclePrompt(
            "barrier",
            "Which of your past frameworks and successes do you still lean on, though the world "
            "they worked in has changed?",
        ),
        ObstaclePrompt(
            "dragon",
            "What does your own dragon of not knowing look like, the anxiety of standing where no "
            "one has answers? What helps you lead from there?",
        ),
        ObstaclePrompt(
            "dragon",
            "Whose judgement do you fear if the future you declare does not come about?",
        ),
        ObstaclePrompt(
            "dragon",
            "Is this step a journey towards more life for you, or another sacrifice? What would "
            "make it a place where you want to dwell?",
        ),
    ),
)

TEMPLATE_SETS: dict[int, tuple[PlanTemplate, ...]] = {
    1: (_EXPERT_TO_TEAM_LEAD, _TEAM_LEAD_TO_MANAGER, _MANAGER_TO_EXECUTIVE, _EXECUTIVE_TO_LEADER),
}
CURRENT_TEMPLATE_VERSION = max(TEMPLATE_SETS)


def template_set(version: int | None = None) -> tuple[PlanTemplate, ...] | None:
    """The templates of that version (the current one when None); None for a version never published."""
    return TEMPLATE_SETS.get(CURRENT_TEMPLATE_VERSION if version is None else version)


def find_template(template_id: str, version: int | None = None) -> PlanTemplate | None:
    """The template with that id in that version (the current one when None), or None."""
    templates = template_set(version)
    if templates is None:
        return None
    return next((t for t in templates if t.id == template_id), None)
