"""StreamField blocks of a solution article: ordered resolution steps and phone diagnosis scripts."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock
from wagtail.snippets.blocks import SnippetChooserBlock

RICH_TEXT_FEATURES = ["bold", "italic", "ol", "ul", "link", "code", "h3", "h4"]


class StepBlock(blocks.StructBlock):
    """One numbered resolution step: what to do, what the customer should then see."""

    instruction = blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("Instruction"))
    expected_result = blocks.CharBlock(
        required=False,
        max_length=400,
        label=_("Expected result"),
        help_text=_("What the customer sees when this step worked."),
    )
    image = ImageChooserBlock(required=False, label=_("Screenshot"))
    document = DocumentChooserBlock(required=False, label=_("Document"))

    class Meta:
        icon = "list-ol"
        label = _("Step")
        template = "blocks/step_block.html"


class DiagnosisActionBlock(blocks.StructBlock):
    """Where an answer leads: a step, another question, an escalation, or solved."""

    ACTION_CHOICES = [
        ("step", _("Go to step")),
        ("question", _("Ask another question")),
        ("escalate", _("Escalate to team")),
        ("solved", _("Solved")),
    ]
    action = blocks.ChoiceBlock(choices=ACTION_CHOICES, default="step", label=_("Then"))
    step = blocks.IntegerBlock(required=False, min_value=1, label=_("Step number"))
    question = blocks.CharBlock(required=False, max_length=20, label=_("Question key"))
    team = SnippetChooserBlock("articles.EscalationTeam", required=False, label=_("Team"))

    def clean(self, value):
        value = super().clean(value)
        action = value.get("action")
        required = {"step": "step", "question": "question", "escalate": "team"}.get(action)
        if required and not value.get(required):
            raise StructBlockValidationError(
                block_errors={required: ValidationError(_("Required for this action."))}
            )
        return value


class DiagnosisQuestionBlock(blocks.StructBlock):
    """One yes/no question: the operator's wording, the customer's, and where each answer leads."""

    key = blocks.CharBlock(max_length=20, label=_("Key"), help_text=_("Short id, e.g. q1"))
    question = blocks.CharBlock(max_length=300, label=_("Yes/no question"))
    customer_question = blocks.CharBlock(
        required=False,
        max_length=300,
        label=_("Question for customers"),
        help_text=_(
            "The same question as a customer reads it on the website ('Do you see…'). "
            "Customers get the guided questions only when every question has this text."
        ),
    )
    yes = DiagnosisActionBlock(label=_("If yes"))
    no = DiagnosisActionBlock(label=_("If no"))


class DiagnosisScriptBlock(blocks.StructBlock):
    """Yes/no questions an operator asks on the phone; the first question is the start."""

    title = blocks.CharBlock(max_length=200, label=_("Title"))
    questions = blocks.ListBlock(DiagnosisQuestionBlock(), min_num=1, label=_("Questions"))

    class Meta:
        icon = "help"
        label = _("Diagnosis script")
        template = "blocks/diagnosis_script_block.html"

    def clean(self, value):
        value = super().clean(value)
        problems = diagnosis_problems(value)
        if problems:
            raise ValidationError("; ".join(str(p) for p in problems))
        return value


def diagnosis_problems(script, step_count=None):
    """Human-readable problems in a diagnosis script: duplicate/unknown keys, cycles, bad steps."""
    questions = list(script["questions"])
    keys = [q["key"] for q in questions]
    problems = []
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        problems.append(_("duplicate question keys: %s") % ", ".join(duplicates))
    known = set(keys)
    edges = {}
    for q in questions:
        for answer in ("yes", "no"):
            action = q[answer]
            if action["action"] == "question":
                if action["question"] not in known:
                    problems.append(
                        _("question %(key)s (%(answer)s) leads to unknown question %(target)s")
                        % {"key": q["key"], "answer": answer, "target": action["question"]}
                    )
                else:
                    edges.setdefault(q["key"], set()).add(action["question"])
            elif action["action"] == "step" and step_count is not None:
                if not action["step"] or action["step"] > step_count:
                    problems.append(
                        _(
                            "question %(key)s (%(answer)s) leads to step %(step)s, the article has %(count)s"
                        )
                        % {
                            "key": q["key"],
                            "answer": answer,
                            "step": action["step"],
                            "count": step_count,
                        }
                    )
    if _has_cycle(edges):
        problems.append(_("the questions loop back on themselves"))
    return problems


def _has_cycle(edges):
    visiting, done = set(), set()

    def visit(node):
        if node in done:
            return False
        if node in visiting:
            return True
        visiting.add(node)
        if any(visit(n) for n in edges.get(node, ())):
            return True
        visiting.discard(node)
        done.add(node)
        return False

    return any(visit(n) for n in list(edges))


class NoteBlock(blocks.StructBlock):
    """A tip or warning shown between steps."""

    kind = blocks.ChoiceBlock(choices=[("tip", _("Tip")), ("warning", _("Warning"))], default="tip")
    text = blocks.RichTextBlock(features=RICH_TEXT_FEATURES)

    class Meta:
        icon = "warning"
        label = _("Note")
        template = "blocks/note_block.html"


class ResolutionStreamBlock(blocks.StreamBlock):
    step = StepBlock()
    diagnosis = DiagnosisScriptBlock()
    note = NoteBlock()

    class Meta:
        block_counts = {"step": {"min_num": 1}}
