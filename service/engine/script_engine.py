"""The script engine attached to every workflow: expressions go through the safe evaluator.

SpiffWorkflow's default engine is plain ``eval``/``exec`` with full builtins. This one evaluates
through :mod:`service.engine.expressions` and refuses to execute scripts (script tasks are refused
at deploy, so reaching ``execute`` means a diagram slipped past the checks). It is not serialized
with the workflow, so it is re-attached after every load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from service.engine import expressions
from service.errors import ExpressionError


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__()
        self.functions = dict(functions)

    def evaluate(
        self, expression: str | None, context: Mapping[str, Any], external_context: Any = None
    ) -> Any:
        if expression is None:  # a message thrown without a payload expression
            return None
        return expressions.evaluate(expression, context, self.functions)

    def execute(self, script: str, context: Any, external_context: Any = None) -> None:
        raise ExpressionError("Scripts are not executed by Alur; script tasks are refused at deploy")

    def call_service(self, context: Any, **kwargs: Any) -> None:
        raise ExpressionError("Service tasks are not supported")


def safe_script_engine(functions: Mapping[str, Callable[..., Any]]) -> PythonScriptEngine:
    return PythonScriptEngine(environment=SafeEnvironment(functions))
