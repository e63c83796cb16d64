"""The script engine attached to every workflow: expressions go through the safe evaluator.

SpiffWorkflow's default engine is plain ``eval``/``exec`` with full builtins. This one evaluates
through :mod:`service.engine.expressions` and refuses to execute scripts (script tasks are refused
at deploy, so reaching ``execute`` means a diagram slipped past the checks). It is not serialized
with the workflow, so it is re-attached after every load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sized
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.task import Task

from service.engine import expressions, limits
from service.errors import ExpressionError, LimitExceeded


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__()
        self.functions = dict(functions)

    def evaluate(
        self, expression: str | None, context: Mapping[str, Any], external_context: Any = None
    ) -> Any:
        if expression is None:  # a message thrown without a payload expression
            return None
        if external_context:  # a DMN input entry's ``?``: the input's value (service.engine.dmn)
            context = {**context, **external_context}
        return expressions.evaluate(expression, context, self.functions)

    def execute(self, script: str, context: Any, external_context: Any = None) -> None:
        raise ExpressionError("Scripts are not executed by Alur; script tasks are refused at deploy")

    def call_service(self, context: Any, **kwargs: Any) -> None:
        raise ExpressionError("Service tasks are not supported")


def _timer_kind(definition: TimerEventDefinition) -> str:
    if isinstance(definition, DurationTimerEventDefinition):
        return "duration"
    return "cycle" if isinstance(definition, CycleTimerEventDefinition) else "date"


def check_timer_text(value: Any, kind: str) -> None:
    """A timer's value (``duration``, ``cycle`` or ``date``) within the limits and readable by SpiffWorkflow.

    Raises :class:`LimitExceeded` or :class:`ExpressionError` (SpiffWorkflow raises bare exceptions).
    """
    limits.check_timer_value(value, kind)
    try:
        if kind == "duration":
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "cycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        elif not isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime):
            raise ValueError("a timeDate needs a date and time, not a duration")
    except Exception as exc:  # SpiffWorkflow's timer parsing raises bare Exception, ValueError, OverflowError…
        raise ExpressionError(f"Timer value {str(value)[:80]!r} is not a valid ISO 8601 {kind}: {exc}") from exc


def _check_value(task: Task, expression: str | None, value: Any) -> None:
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition) and expression == definition.expression:
        check_timer_text(value, _timer_kind(definition))
    spec = task.task_spec
    if isinstance(spec, MultiInstanceTask) and expression is not None and expression == spec.cardinality:
        count = value if isinstance(value, int) else len(value) if isinstance(value, Sized) else 0
        limits.check_instances(count, f"Multi-instance activity {spec.bpmn_id}")


class SafeScriptEngine(PythonScriptEngine):
    """Checks what a timer or a loop cardinality evaluates to before SpiffWorkflow acts on it.

    SpiffWorkflow adds a duration's months one by one and makes one instance per unit of a
    cardinality: ``P999999999Y`` or a cardinality of a million would hold a thread for hours.
    """

    def evaluate(self, task: Task, expression: str | None, external_context: Any = None) -> Any:
        value = super().evaluate(task, expression, external_context)
        try:
            _check_value(task, expression, value)
        except (ExpressionError, LimitExceeded) as exc:
            raise WorkflowTaskException(exc.message, task=task, exception=exc) from exc
        return value


def safe_script_engine(functions: Mapping[str, Callable[..., Any]]) -> PythonScriptEngine:
    return SafeScriptEngine(environment=SafeEnvironment(functions))
