"""Guided troubleshooting for customers: an article's diagnosis script, one question at a time.

The operator's script (questions about "the caller", escalation teams) stays in the console.
Customers walk the same tree in their own wording (`customer_question`): each answer leads to
the next question, a step of the article, "solved", or "contact us" where the operator
would escalate. A script is offered to customers only when every question has customer
wording, so an operator's sentence can never reach a public page.

The path is the answers alone ("yny"): the tree is deterministic from its first question, so
a link or a form needs no keys, and the server re-walks the article's live content to know
what was asked (a tampered path is refused, never trusted).
"""

from dataclasses import dataclass, field

ANSWER_CODES = {"y": "yes", "n": "no"}
MAX_ANSWERS = 50  # more than any script has questions; a longer path is tampered with

OUTCOME_STEP = "step"
OUTCOME_SOLVED = "solved"
OUTCOME_CONTACT = "contact"  # where the operator would escalate


@dataclass
class AnsweredQuestion:
    key: str
    question: str  # the customer's wording
    operator_question: str
    answer: str  # "yes" / "no"


@dataclass
class GuideState:
    """Where a customer stands in one script after the answers given so far."""

    number: int  # the script's position among the article's diagnosis blocks (1-based)
    answers: str  # the path as given ("yny")
    answered: list = field(default_factory=list)  # [AnsweredQuestion]
    question: str = ""  # the next question (customer wording), empty once an outcome is reached
    outcome: str = ""  # "", OUTCOME_STEP, OUTCOME_SOLVED, OUTCOME_CONTACT
    step: int | None = None  # the step number for OUTCOME_STEP
    team: object = None  # the operator's escalation team: for the contact request, never shown

    @property
    def started(self):
        return bool(self.answered)

    @property
    def yes_path(self):
        return self.answers + "y"

    @property
    def no_path(self):
        return self.answers + "n"

    def as_record(self, title=""):
        """What the contact request keeps, so whoever handles it need not ask again."""
        return {
            "script": title,
            "answers": [
                {
                    "question": a.question,
                    "operator_question": a.operator_question,
                    "answer": a.answer,
                }
                for a in self.answered
            ],
            "outcome": self.outcome,
            "step": self.step,
            "team": getattr(self.team, "name", "") or "",
        }


class InvalidPath(ValueError):
    """The answers do not fit the script (tampered, or the article changed meanwhile)."""


def is_customer_ready(script):
    """True when every question has customer wording."""
    questions = list(script["questions"])
    return bool(questions) and all((q.get("customer_question") or "").strip() for q in questions)


def customer_scripts(page):
    """(number, script value) of the article's diagnosis scripts customers may walk."""
    scripts = [b.value for b in page.resolution if b.block_type == "diagnosis"]
    return [(n, s) for n, s in enumerate(scripts, start=1) if is_customer_ready(s)]


def customer_script(page, number):
    """The customer-ready script with this number, or None."""
    return dict(customer_scripts(page)).get(number)


def walk(script, answers, number=1):
    """Follow the answers from the first question. Raises InvalidPath when they do not fit."""
    if len(answers) > MAX_ANSWERS or any(a not in ANSWER_CODES for a in answers):
        raise InvalidPath(answers)
    questions = {q["key"]: q for q in script["questions"]}
    current = list(script["questions"])[0]
    state = GuideState(number=number, answers=answers)
    for position, code in enumerate(answers):
        if current is None:
            raise InvalidPath(answers)  # an answer after the outcome
        answer = ANSWER_CODES[code]
        state.answered.append(
            AnsweredQuestion(
                key=current["key"],
                question=current["customer_question"],
                operator_question=current["question"],
                answer=answer,
            )
        )
        action = current[answer]
        kind = action["action"]
        current = None
        if kind == "question":
            current = questions.get(action["question"])
            if current is None:
                raise InvalidPath(answers)
        elif kind == "step":
            state.outcome, state.step = OUTCOME_STEP, action["step"]
        elif kind == "solved":
            state.outcome = OUTCOME_SOLVED
        else:  # escalate: the customer is offered contact, the team stays internal
            state.outcome, state.team = OUTCOME_CONTACT, action.get("team")
        if current is None and position != len(answers) - 1:
            raise InvalidPath(answers)
    if current is not None:
        state.question = current["customer_question"]
    return state


def parse_number(raw, default=1):
    """The script number from a query parameter: digits only, else the default."""
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 4 else default


def guide_for(page, number_param, answers_param):
    """(state, invalid) for the article page: the customer's state in the requested script,
    None when the article has no customer-ready script. A path that does not fit restarts
    the script and says so."""
    scripts = customer_scripts(page)
    if not scripts:
        return None, False
    number = parse_number(number_param, scripts[0][0])
    script = dict(scripts).get(number)
    if script is None:
        number, script = scripts[0]
        return walk(script, "", number), bool(answers_param)
    try:
        return walk(script, (answers_param or "").strip(), number), False
    except InvalidPath:
        return walk(script, "", number), True


def record_for(page, number_param, answers_param):
    """The path to keep with a contact request, or None (no path, or one that does not fit)."""
    answers = (answers_param or "").strip()
    if page is None or not answers:
        return None
    number = parse_number(number_param, 0)
    script = customer_script(page, number)
    if script is None:
        return None
    try:
        state = walk(script, answers, number)
    except InvalidPath:
        return None
    return state.as_record(title=script["title"])
