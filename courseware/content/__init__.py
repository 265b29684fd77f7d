"""Pure content compiler: course files in, a validated immutable `Course` out. No Flask here."""
from .compiler import compile_sources, decode_sources, read_sources, source_hash
from .errors import ContentError, CourseInvalid
from .model import CompletionRule, Course, Lesson, Module

__all__ = [
    "CompletionRule",
    "ContentError",
    "Course",
    "CourseInvalid",
    "Lesson",
    "Module",
    "compile_sources",
    "decode_sources",
    "read_sources",
    "source_hash",
]
