"""Running one case: start, complete a human task, deliver a message, fire due timers.

A :class:`CaseRun` wraps a SpiffWorkflow ``BpmnWorkflow`` restored from state-only JSON and the
revision's compiled spec. Every step ends with ``do_engine_steps`` so the workflow rests at human
tasks, timers or message catches. SpiffWorkflow errors are translated here, at the engine's edge,
keeping the element id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition as BaseMessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException, WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from service.engine import expressions, limits
from service.engine.budget import StepBudget
from service.engine.calendar import WorkCalendar, utc_now
from service.engine.compiler import CompiledDefinition
from service.engine.properties import ESCALATE_TO, RECIPIENT, SHOWN_FIELDS, listed
from service.engine.script_engine import safe_script_engine
from service.engine.serialization import dump_state, load_state
from service.engine.states import TaskStatus
from service.engine.walk import OPEN, READY, WAITING, any_ready_engine_task, quicken, ready_engine_tasks, walk_depths
from service.errors import Conflict, ExpressionError, InvalidInput, LimitExceeded, NotFound, ServiceError

_DUE_KEY = "alur_due_at"

# SpiffWorkflow builds every log record's extras, whether or not anything logs it, and below INFO
# (``logger.level < 20``, its own level: NOTSET too, whatever its parent lets through) it collects a
# workflow's every task for it (a walk of the tree at each start and each end). The command line keeps
# "spiff" at WARNING; its two busy loggers are set there themselves unless configured otherwise.
for _name in ("spiff.workflow", "spiff.task"):
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(logging.WARNING)


def answers_field(variable: str) -> str:
    """Where the answers of a multi-instance task's instances are collected: ``jawaban_<elementVariable>``."""
    return f"jawaban_{variable}"


def add_answer(answers: dict[str, Any], value: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` (collected by element value) with one instance's answer joined in: a later step of the
    same instance (the same bidang) adds to its answer, never over the other instances'."""
    key = str(value)
    answers[key] = {**(answers.get(key) or {}), **data}
    return answers


def collected_answers(compiled: CompiledDefinition) -> tuple[str, ...]:
    """The case fields where the diagram's multi-instance tasks collect their instances' answers."""
    specs = [*compiled.spec.task_specs.values(),
             *(spec for sub in compiled.subprocess_specs.values() for spec in sub.task_specs.values())]
    return tuple(dict.fromkeys(
        answers_field(str(item.bpmn_id)) for spec in specs if isinstance(spec, MultiInstanceTask)
        if (item := spec.output_item or spec.input_item) is not None and item.bpmn_id))


@dataclass(frozen=True)
class HumanTask:
    """A READY user task as the task list shows it."""

    id: str
    element_id: str
    name: str
    lane: str | None
    candidate_groups: tuple[str, ...]
    form_key: str | None
    due_at: datetime | None
    properties: Mapping[str, str] = field(default_factory=dict)
    #: an instance of a parallel multi-instance task: its element variable (``camunda:elementVariable``)
    #: and this instance's value of it (e.g. ``("bidang", "dinsos-kukar-rehsos")``)
    instance: tuple[str, Any] | None = None

    @property
    def answers_field(self) -> str | None:
        """The case field collecting the answers of a multi-instance task's instances, by element value:
        ``jawaban_<elementVariable>`` (e.g. ``jawaban_bidang``: ``{"dinsos-kukar-rehsos": {…}, …}``)."""
        return answers_field(self.instance[0]) if self.instance else None

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles that may work on the task: candidateGroups when given, else the lane."""
        if self.candidate_groups:
            return self.candidate_groups
        return (self.lane,) if self.lane else ()


@dataclass(frozen=True)
class FiredTimer:
    element_id: str
    name: str
    attached_to: str | None
    escalate_to: str | None


@dataclass(frozen=True)
class Notification:
    """A message the process throws to the outside (e.g. ``notifikasi_pelapor``), with its element."""

    name: str
    payload: Any
    element_id: str | None = None
    element_name: str | None = None
    #: the role the message is for: the throwing event's ``penerima`` property, else the reporter
    #: for messages named ``…pelapor…``, else nobody in particular
    recipient: str | None = None
    #: the case fields the event publishes to its recipient (its ``tampilkan`` property), in order
    published: tuple[str, ...] = ()


def _timer_due(task: Task) -> datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):  # a cycle: the next occurrence, while cycles remain
        value = value.get("next") if value.get("cycles") != 0 else None
    if not isinstance(value, str):
        return None
    try:
        return TimerEventDefinition.get_datetime(value)
    except ValueError:
        return None


def _is_timer(task: Task) -> bool:
    definition = getattr(task.task_spec, "event_definition", None)
    return isinstance(definition, TimerEventDefinition)


def _instance(task: Task) -> tuple[str, Any] | None:
    """(element variable, value) of an instance of a multi-instance activity over a collection."""
    parent = task.parent
    spec = parent.task_spec if parent is not None else None
    # SpiffWorkflow's Camunda multi-instance sets its input item when the activity starts (in the
    # process that ran it); a restored case in a fresh process has only the output item, the same variable
    item = (spec.input_item or spec.output_item) if isinstance(spec, MultiInstanceTask) else None
    name = getattr(item, "bpmn_id", None)
    return (str(name), task.data.get(name)) if name else None


def _element_id(task: Task) -> str:
    return str(task.task_spec.bpmn_id or task.task_spec.name)


def _translate(exc: SpiffWorkflowException) -> InvalidInput:
    task = getattr(exc, "task", None)
    element = _element_id(task) if task is not None else getattr(exc, "id", None)
    # SpiffWorkflow keeps no reference to the error it wraps: it is the exception's cause or context
    cause = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
    message = cause.message if isinstance(cause, ServiceError) else str(exc)
    kind = LimitExceeded if isinstance(cause, LimitExceeded) else ExpressionError
    return kind(
        f"The process failed at element {element}: {message}",
        [{"element_id": element, "message": message}],
    )


def _run_ready(workflow: Any, top: BpmnWorkflow, did_complete: Callable[[Task], None]) -> int:
    """One pass of ``do_engine_steps`` over ``workflow`` (the top one or a subprocess): run the READY tasks
    that are not user tasks, in SpiffWorkflow's order, as they were before the first of them ran."""
    if not any_ready_engine_task(top):
        return 0
    count = 0
    for task in ready_engine_tasks(workflow):
        task.run()
        count += 1
        did_complete(task)
    return count


def _engine_pass(top: BpmnWorkflow, did_complete: Callable[[Task], None]) -> bool:
    """``BpmnWorkflow._do_engine_steps``: the active subprocesses (deepest first) until they rest, each
    caller told, then a pass over the whole tree; whether anything ran or a subprocess started."""
    active = top.get_active_subprocesses()
    quicken(top)  # a subprocess started in the last pass
    for subprocess in sorted(active, key=lambda sub: sub.depth, reverse=True):
        while _run_ready(subprocess, top, did_complete) > 0:
            pass
        if subprocess.parent_task_id is not None:
            caller = top.get_task_from_id(subprocess.parent_task_id)
            caller.task_spec._update(caller)
    count = _run_ready(top, top, did_complete)
    return count > 0 or len(top.get_active_subprocesses()) > len(active)


def _engine_steps(top: BpmnWorkflow, did_complete: Callable[[Task], None]) -> None:
    """``do_engine_steps`` without its closing ``refresh_timers`` (the caller refreshes)."""
    while _engine_pass(top, did_complete):
        pass


def _refresh_again(top: BpmnWorkflow) -> bool:
    """Whether refreshing the timers once more can change anything: only a cycle timer does (each refresh
    lets one more overdue occurrence through; a date or duration timer that did not fire a moment ago
    does not fire now)."""
    return any(isinstance(task.task_spec.event_definition, (CycleTimerEventDefinition, MultipleEventDefinition))
               for task in top.event_manager.tasks.values())


class CaseRun:
    def __init__(self, compiled: CompiledDefinition, workflow: BpmnWorkflow, calendar: WorkCalendar,
                 now: Callable[[], datetime] = utc_now) -> None:
        self.compiled = compiled
        self.workflow = workflow
        self.calendar = calendar
        self.now = now
        self.functions = calendar.timer_functions(now)
        self._thrown_by: dict[str, list[Notification]] = {}  # message name → its throwers, in throw order
        self._open: list[tuple[Task, int]] | None = None  # the open tasks, while the case rests (_open_tasks)
        quicken(workflow)
        workflow.script_engine = safe_script_engine(self.functions)

    @classmethod
    def start(cls, compiled: CompiledDefinition, data: Mapping[str, Any], calendar: WorkCalendar,
              scheduled: bool = False) -> CaseRun:
        """Start a case; ``scheduled`` (the worker's periodic starts) lets a timer start event fire now."""
        workflow = BpmnWorkflow(compiled.spec, dict(compiled.subprocess_specs))
        run = cls(compiled, workflow, calendar)
        workflow.task_tree.data.update(data)
        run._advance()
        if scheduled:
            run._fire_start_timers()
        return run

    def _fire_start_timers(self) -> None:
        due = (self.now() - timedelta(seconds=1)).isoformat()
        for task in self._waiting_timers():
            if task.parent is not None and task.parent.task_spec.name == "Start":
                value = task.internal_data.get("event_value")
                task.internal_data["event_value"] = (
                    {**value, "cycles": 1, "next": due} if isinstance(value, dict) else due
                )
        self._advance()

    @classmethod
    def restore(cls, compiled: CompiledDefinition, state: Mapping[str, Any], calendar: WorkCalendar) -> CaseRun:
        workflow = load_state(state, compiled.spec, compiled.subprocess_specs)
        return cls(compiled, workflow, calendar)

    def dump(self) -> dict[str, Any]:
        return dump_state(self.workflow)

    @property
    def completed(self) -> bool:
        return bool(self.workflow.is_completed())

    def _advance(self, budget: StepBudget | None = None) -> None:
        """Run the engine until it rests; at most ``engine_max_steps`` tasks (:class:`StepBudget`).

        What ``do_engine_steps``, ``refresh_waiting_tasks`` (that is ``refresh_timers``) and
        ``do_engine_steps`` again did, without their walks that find nothing: the second round of steps
        runs only when the refresh made a task READY (a timer that fell due), and the timers are
        refreshed again only where that can change anything (a cycle timer catching up, in
        :func:`_refresh_again`) or after the second round ran.
        """
        steps = budget or StepBudget()

        def did_complete(task: Task) -> None:
            steps(task)
            self._note_thrown(task)

        workflow = self.workflow
        try:
            _engine_steps(workflow, did_complete)
            workflow.refresh_timers()
            if _refresh_again(workflow):
                workflow.refresh_timers()
            if any_ready_engine_task(workflow):
                _engine_steps(workflow, did_complete)
                workflow.refresh_timers()
            elif _refresh_again(workflow):
                workflow.refresh_timers()
        except SpiffWorkflowException as exc:
            raise _translate(exc) from exc
        finally:
            self._open = None
        steps.check_levels(self._open_tasks())

    def _open_tasks(self) -> list[tuple[Task, int]]:
        """The READY and WAITING tasks with their depths, in SpiffWorkflow's order: one walk of the task tree
        per state of the case, shared by every question asked of it until the case moves on."""
        if self._open is None:
            self._open = walk_depths(self.workflow.task_tree, OPEN)
        return self._open

    def _note_thrown(self, task: Task) -> None:
        """Remember the element that threw each outgoing message: its name, recipient and published fields.

        Intermediate throw events and message end events alike (SpiffWorkflow throws from both).
        """
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and not isinstance(task.task_spec, CatchingEvent):
            extensions: Mapping[str, str] = getattr(task.task_spec, "extensions", {}) or {}
            recipient = extensions.get(RECIPIENT)
            if recipient is None and "pelapor" in definition.name:
                recipient = "Pelapor"
            self._thrown_by.setdefault(definition.name, []).append(Notification(
                definition.name, None, _element_id(task), task.task_spec.bpmn_name, recipient,
                tuple(listed(extensions, SHOWN_FIELDS))))

    # --- human tasks -------------------------------------------------------------------------
    def _ready_user_tasks(self) -> Iterator[Task]:
        return (task for task, _ in self._open_tasks() if task._state == READY and task.task_spec.manual)

    def ready_tasks(self) -> list[HumanTask]:
        return [self._describe(task) for task in self._ready_user_tasks()]

    def _describe(self, task: Task) -> HumanTask:
        extensions: Mapping[str, str] = getattr(task.task_spec, "extensions", {}) or {}
        groups = tuple(g.strip() for g in extensions.get("camunda:candidateGroups", "").split(",") if g.strip())
        properties = {k: v for k, v in extensions.items() if not k.startswith("camunda:")}
        return HumanTask(
            id=str(task.id),
            element_id=_element_id(task),
            name=task.task_spec.bpmn_name or _element_id(task),
            lane=task.task_spec.lane,
            candidate_groups=groups,
            form_key=extensions.get("camunda:formKey"),
            due_at=self._due_at(task, extensions.get("camunda:dueDate")),
            properties=properties,
            instance=_instance(task),
        )

    def _due_at(self, task: Task, due_expression: str | None) -> datetime | None:
        if due_expression:
            stored = task.internal_data.get(_DUE_KEY)
            if stored is None:
                stored = self._evaluate_instant(task, due_expression).isoformat()
                task.internal_data[_DUE_KEY] = stored
            return datetime.fromisoformat(stored)
        # A fired (COMPLETED) non-interrupting timer keeps its instant: the task is then overdue.
        # An instance of a multi-instance task: the timers attached to that task (its parent).
        multi = task.parent is not None and isinstance(task.parent.task_spec, MultiInstanceTask)
        anchor = task.parent if multi and task.parent is not None else task
        timers = [
            _timer_due(sibling) for sibling in (anchor.parent.children if anchor.parent else [])
            if isinstance(sibling.task_spec, BoundaryEvent) and _is_timer(sibling)
            and sibling.state in (TaskState.WAITING, TaskState.COMPLETED)
        ]
        dues = [due for due in timers if due is not None]
        return min(dues) if dues else None

    def _evaluate_instant(self, task: Task, expression: str) -> datetime:
        """A ``camunda:dueDate``: a bounded duration from now, or an instant; errors name the task."""
        try:
            text = str(expressions.evaluate(expression, task.data, self.functions)).strip()
            if text.upper().startswith("P"):
                return self.now() + limits.check_duration(text, "The dueDate")
            try:
                return TimerEventDefinition.get_datetime(text)
            except (ValueError, OverflowError) as exc:
                raise ExpressionError(f"The dueDate {text[:80]!r} is neither an ISO 8601 duration nor a date "
                                      "and time") from exc
        except (ExpressionError, LimitExceeded) as exc:
            element = _element_id(task)
            raise type(exc)(f"The dueDate of {element} is not usable: {exc.message}",
                            [{"element_id": element, "message": exc.message}]) from exc

    def _find_task(self, task_id: str) -> Task:
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, TaskNotFoundException):
            task = None
        if task is None:
            raise NotFound(f"Task {task_id} is not part of this case")
        return task

    def complete(self, task_id: str, data: Mapping[str, Any]) -> None:
        """Complete a READY user task with its form data (the caller checked lane and unit)."""
        task = self._find_task(task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise Conflict(f"Task {task_id} is {TaskStatus.of(task.state).value}, not ready")
        self._open = None
        task.data.update(data)
        instance = _instance(task)
        if instance is not None and task.parent is not None:
            # the instance's answer joins the others on the multi-instance task, whose data the
            # next step inherits once every instance answered (the collection itself stays as chosen)
            add_answer(task.parent.data.setdefault(answers_field(instance[0]), {}), instance[1], data)
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise _translate(exc) from exc
        self._advance()

    # --- events --------------------------------------------------------------------------------
    def waiting_messages(self) -> set[str]:
        """Names of the messages a catch event of the case waits for now: a message of another name (or
        any, when there are none) cannot be delivered."""
        definitions = (getattr(task.task_spec, "event_definition", None)
                       for task, _ in self._open_tasks()
                       if task._state == WAITING and isinstance(task.task_spec, CatchingEvent))
        return {str(found.name) for found in definitions if isinstance(found, BaseMessageEventDefinition)}

    def deliver_message(self, name: str, payload: Mapping[str, Any]) -> bool:
        """Deliver a message; False when nothing waits for it now (the caller buffers it)."""
        if name not in self.waiting_messages():
            return False
        event = BpmnEvent(MessageEventDefinition(name), {"payload": dict(payload), "result_var": name})
        self._open = None
        try:
            self.workflow.send_event(event)
        except WorkflowException:
            return False
        self._advance()
        return True

    def take_notifications(self) -> list[Notification]:
        notes = []
        for event in self.workflow.get_events():
            if isinstance(event.event_definition, MessageEventDefinition):
                name = event.event_definition.name
                throwers = self._thrown_by.get(name)
                thrower = throwers.pop(0) if throwers else None
                payload = (event.payload or {}).get("payload")
                notes.append(Notification(name, payload) if thrower is None else replace(thrower, payload=payload))
        self._thrown_by.clear()
        return notes

    def _waiting_timers(self) -> list[Task]:
        return [task for task, _ in self._open_tasks() if task._state == WAITING and _is_timer(task)]

    def next_timer_at(self) -> datetime | None:
        dues = [due for due in map(_timer_due, self._waiting_timers()) if due is not None]
        return min(dues) if dues else None

    def fire_due_timers(self) -> list[FiredTimer]:
        """Fire every timer whose time has come; returns what fired (escalations included)."""
        # the waiting timers are among the catch events SpiffWorkflow keeps for the events it waits for: one
        # found there needs no walk of the tree; several are put in the tree's order, as they fire
        timers = [task for task in self.workflow.event_manager.tasks.values()
                  if task._state == WAITING and _is_timer(task)]
        if len(timers) > 1:
            timers = self._waiting_timers()
        before = [(task, repr(task.internal_data.get("event_value"))) for task in timers]
        self._advance()
        fired = []
        for task, value in before:
            if task._state != WAITING or repr(task.internal_data.get("event_value")) != value:
                extensions = getattr(task.task_spec, "extensions", {}) or {}
                activities = [
                    sibling for sibling in (task.parent.children if task.parent else [])
                    if not isinstance(sibling.task_spec, BoundaryEvent)
                ]
                fired.append(FiredTimer(
                    element_id=_element_id(task),
                    name=task.task_spec.bpmn_name or _element_id(task),
                    attached_to=_element_id(activities[0]) if activities else None,
                    escalate_to=extensions.get(ESCALATE_TO),
                ))
        return fired

    def cancel(self) -> None:
        self._open = None
        self.workflow.cancel()

