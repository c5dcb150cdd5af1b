"""Follow-up interviews after an episode (spec §5.3): question sets, asking, and the honesty label."""

from .honesty import honesty_label, leading_yes_no, world_facts
from .questions import Question, QuestionSetError, load_question_set, questions_for
from .session import ask

__all__ = ["Question", "QuestionSetError", "ask", "honesty_label", "leading_yes_no", "load_question_set",
           "questions_for", "world_facts"]
