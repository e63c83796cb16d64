"""The process engine: SpiffWorkflow behind a small, safe surface. No Flask, no database."""

from service.engine.calendar import WorkCalendar, utc_now
from service.engine.compiler import CompiledDefinition, DiagramOutline, SpecCache, compile_definition, outline
from service.engine.runtime import CaseRun, FiredTimer, HumanTask, Notification
from service.engine.states import CaseStatus, TaskStatus

__all__ = [
    "CaseRun",
    "CaseStatus",
    "CompiledDefinition",
    "DiagramOutline",
    "FiredTimer",
    "HumanTask",
    "Notification",
    "SpecCache",
    "TaskStatus",
    "WorkCalendar",
    "compile_definition",
    "outline",
    "utc_now",
]
