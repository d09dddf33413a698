"""Known problems as the customer templates show them, in one language."""

from .matching import matching_problems, services_in_language
from .texts import status_label


def problem_view(problem, language):
    return {
        "id": problem.pk,
        "title": problem.title_in(language),
        "text": problem.customer_text_in(language),
        "workaround": problem.workaround_in(language),
        "status": problem.status,
        "status_label": status_label(problem.status, language),
        "started_at": problem.started_at,
        "ended_at": problem.ended_at,
        "services": [s.name for s in services_in_language(problem, language)],
        "regions": problem.regions,
    }


def public_matches(query, language, model_id=None):
    """Problems a customer's question matches on the self-service search page (`model_id`:
    the model that served the search, whose cached query vector is reused)."""
    return [
        problem_view(m.problem, language)
        for m in matching_problems(query, channel="public", model_id=model_id)
    ]
