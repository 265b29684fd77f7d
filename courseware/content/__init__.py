"""Pure content compiler: course files in, a validated immutable `Course` out. No Flask here."""
from .compiler import compile_sources, decode_sources, read_media, read_sources, source_hash
from .errors import ContentError, CourseInvalid
from .model import Activity, Aid, CompletionRule, Course, Lesson, Module
from .quiz import QUESTION_TYPES, Question, Quiz
from .scenario import ELEMENTS, Node, Scenario

__all__ = [
    "Activity",
    "Aid",
    "ELEMENTS",
    "Node",
    "QUESTION_TYPES",
    "Question",
    "Quiz",
    "Scenario",
    "CompletionRule",
    "ContentError",
    "Course",
    "CourseInvalid",
    "Lesson",
    "Module",
    "compile_sources",
    "decode_sources",
    "read_media",
    "read_sources",
    "source_hash",
]
