"""State-only serialization of running cases.

SpiffWorkflow's serializer writes the whole compiled spec into every workflow dump. Alur keeps the
spec once per revision (compiled from the stored BPMN and cached), so a case stores only its task
tree and data: a converter that leaves ``spec`` and ``subprocess_specs`` out and takes them back
as arguments when restoring. Dumps carry :data:`FORMAT_VERSION`; a change of the format ships a
migration in :data:`MIGRATIONS` and a test that loads a frozen old dump.

Format 2 is format 1 written compactly (:func:`compact_state`, undone exactly by :func:`expand_state`):

- ``tasks`` is a list, root first and parents before children: ``[id, task_spec, state,
  last_state_change]`` plus a dict of the other fields that differ from SpiffWorkflow's defaults, under
  short names (``c`` children as positions in the list, ``d`` delta, ``v`` data, ``i`` internal_data,
  ``g`` triggered, ``p`` a parent the children lists do not give, ``y`` typename); ``root`` and
  ``last_task`` become positions; the workflow leaves out its empty ``correlations``, ``subprocesses``
  and ``bpmn_events`` and its ``typename``. A list keeps its order in any JSON store (JSONB reorders
  object keys);
- a **finished** workflow (``completed``: the case ended or was cancelled) keeps its data and its root
  task (without the start data) only, marked ``"pruned": true``. Nothing restores a finished case to
  run it (every command that restores a case refuses one that is not running); what a case page, the
  history chain, the archive, retention and the register show of it lives in ``cases.data``,
  ``history`` and ``tasks``. Restoring a pruned state gives a completed workflow with that data and no
  tasks besides the root.

Format 2 is written and read directly (:func:`_dump_rows`, :func:`_dump_pruned`, :func:`_load_rows`):
each task's fields as SpiffWorkflow's task converter gives and takes them, each id parsed once (a
task's parent and children are then the very id objects of those tasks: a lookup needs no UUID
comparison), without the format 1 mapping in between. What those do not cover (a tree the compact form
does not fit, a format 1 row) goes through SpiffWorkflow's converters as before
(:func:`dump_state_via_spiff`, :func:`load_state_via_spiff`), and ``tests/engine/test_engine_fast_paths.py``
holds both ways equal.

About 5 KB of JSON per completed complaint of ``benchmarks/models/complaint.bpmn`` become a few hundred
bytes (issue 13, ``benchmarks/case_bytes.py``). Rows written in format 1 keep loading as they are.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from copy import deepcopy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

FORMAT_VERSION = 2
#: the format SpiffWorkflow's own dict form is written in (:func:`expand_state` gives it back)
FULL_FORMAT = 1
FORMAT_KEY = "alur_state_format"
SPIFF_VERSION_KEY = "spiff_serializer_version"

#: marks a finished workflow whose tasks below the root were left out
PRUNED_KEY = "pruned"

#: from-version → function upgrading a dump (SpiffWorkflow's dict form) in place to the next version,
#: up to :data:`FULL_FORMAT`; format 2 is that form written compactly.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], None]] = {}


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Like SpiffWorkflow's converter, minus the specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self,
        dct: dict[str, Any],
        spec: BpmnProcessSpec,
        subprocess_specs: Mapping[str, BpmnProcessSpec],
    ) -> BpmnWorkflow:
        workflow = self.target_class(spec, dict(subprocess_specs), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry() -> Any:
    config = deepcopy(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = StateOnlyWorkflowConverter
    return BpmnWorkflowSerializer.configure(config)


_SERIALIZER = BpmnWorkflowSerializer(_registry())


def dump_state(workflow: BpmnWorkflow) -> dict[str, Any]:
    """A JSON-ready dict of the workflow's state, without its spec, in format 2 (:func:`compact_state`)."""
    state = _dump_rows(workflow) if not workflow.completed else _dump_pruned(workflow)
    return state if state is not None else dump_state_via_spiff(workflow)


def dump_state_via_spiff(workflow: BpmnWorkflow) -> dict[str, Any]:
    """:func:`dump_state` through SpiffWorkflow's converters and :func:`compact_state`: every workflow
    (finished ones are pruned), and the reference the direct way is tested against."""
    state: dict[str, Any] = _SERIALIZER.to_dict(workflow)
    state[FORMAT_KEY] = FULL_FORMAT
    state[SPIFF_VERSION_KEY] = _SERIALIZER.VERSION
    return compact_state(state)


#: task fields left out of format 2 when they hold these values (``delta`` depends on the parent)
_TASK_DEFAULTS: dict[str, Any] = {"children": [], "triggered": False, "internal_data": {}, "data": {},
                                  "typename": "Task"}
_NO_DELTA: dict[str, Any] = {"updates": {}, "deletions": []}
#: workflow fields left out of format 2 when they hold these values
_WORKFLOW_DEFAULTS: dict[str, Any] = {"correlations": {}, "subprocesses": {}, "bpmn_events": [],
                                      "typename": "BpmnWorkflow"}
#: a format 2 task is ``[id, task_spec, state, last_state_change]`` plus, when any, a dict of the other
#: fields that differ from their defaults, under these short names (``c``: the children's positions)
_POSITIONAL = ("id", "task_spec", "state", "last_state_change")
_LONG = {"c": "children", "p": "parent", "d": "delta", "v": "data", "i": "internal_data", "g": "triggered",
         "y": "typename"}
#: the short names :func:`_load_rows` reads (``y``, a task of another type, goes through SpiffWorkflow's converters)
_SHORT = frozenset(("c", "p", "d", "v", "i", "g"))


#: the fields of a task in SpiffWorkflow's form (a task with others keeps format 1's mapping)
_TASK_FIELDS = frozenset((*_POSITIONAL, "parent", "children", "triggered", "internal_data", "data", "delta",
                          "typename"))


def _root_down(tasks: Mapping[str, Any], root: Any) -> list[str]:
    """Task ids from ``root`` down, breadth first, then any task not below it, in mapping order."""
    order: dict[str, None] = {}
    pending: deque[str] = deque([str(root)])
    while pending:
        task_id = pending.popleft()
        if task_id in tasks and task_id not in order:
            order[task_id] = None
            pending.extend(tasks[task_id].get("children", ()))
    order.update((task_id, None) for task_id in tasks if task_id not in order)
    return list(order)


def _compact_tasks(dct: dict[str, Any]) -> dict[str, Any]:
    """``dct`` (a workflow or subprocess) with its tasks as format 2's list, root first; a task tree that
    does not fit (never seen from SpiffWorkflow: a task keyed by another id, with other fields, a child
    named twice or missing) keeps its mapping."""
    tasks = dct.get("tasks")
    if not isinstance(tasks, Mapping) or not tasks:
        return dct
    try:
        order = _root_down(tasks, dct.get("root"))
        position = {task_id: n for n, task_id in enumerate(order)}
        parents: dict[str, str] = {}
        rows: list[list[Any]] = []
        for task_id in order:
            task = tasks[task_id]
            if task.keys() != _TASK_FIELDS or task["id"] != task_id:
                return dct
            extra: dict[str, Any] = {}
            children = task["children"]
            if children != []:
                extra["c"] = [position[child] for child in children]
                for child in children:
                    if parents.setdefault(child, task_id) != task_id:
                        return dct
            parent = task["parent"]
            if parent != parents.get(task_id):
                extra["p"] = parent
            if task["delta"] != (_NO_DELTA if parent is not None else {}):
                extra["d"] = task["delta"]
            for name, short in (("data", "v"), ("internal_data", "i"), ("triggered", "g"), ("typename", "y")):
                if task[name] != _TASK_DEFAULTS[name]:
                    extra[short] = task[name]
            row = [task_id, task["task_spec"], task["state"], task["last_state_change"]]
            rows.append([*row, extra] if extra else row)
    except (KeyError, TypeError, AttributeError):
        return dct
    dct["tasks"] = rows
    if dct.get("root") == order[0]:
        del dct["root"]
    if dct.get("last_task") in position:
        dct["last_task"] = position[dct["last_task"]]
    return dct


def _expand_tasks(dct: dict[str, Any]) -> dict[str, Any]:
    """``dct`` (a workflow or subprocess) with its tasks back in SpiffWorkflow's mapping."""
    rows = dct.get("tasks")
    if not isinstance(rows, list):
        return dct
    ids = [row[0] for row in rows]
    parents: dict[str, str] = {}
    for row in rows:
        if len(row) > 4 and "c" in row[4]:
            for child in row[4]["c"]:
                parents[ids[child]] = row[0]
    full: dict[str, Any] = {}
    for row in rows:
        task_id = row[0]
        extra = row[4] if len(row) > 4 else {}
        parent = extra["p"] if "p" in extra else parents.get(task_id)
        task: dict[str, Any] = {
            "id": task_id, "parent": parent, "children": [ids[child] for child in extra.get("c", ())],
            "last_state_change": row[3], "state": row[2], "task_spec": row[1], "triggered": False,
            "internal_data": {}, "data": {}, "delta": {"updates": {}, "deletions": []} if parent is not None else {},
            "typename": "Task"}
        for key, value in extra.items():
            if key != "c" and key != "p":
                task[_LONG.get(key, key)] = value
        full[task_id] = task
    dct["tasks"] = full
    if ids:
        dct.setdefault("root", ids[0])
    last = dct.get("last_task")
    if isinstance(last, int) and not isinstance(last, bool):
        dct["last_task"] = ids[last]
    return dct


def _prune_finished(dct: dict[str, Any]) -> None:
    """Keep the root task of a finished workflow only (the workflow keeps its final data), as the module
    docstring says."""
    root_id = str(dct.get("root"))
    root = (dct.get("tasks") or {}).get(root_id)
    if root is None:
        return
    dct["tasks"] = {root_id: {**root, "children": [], "data": {}}}  # the workflow's data is the final one
    dct["last_task"] = None
    dct["subprocesses"] = {}
    dct["bpmn_events"] = []
    dct[PRUNED_KEY] = True


def compact_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """Format 2 of a dump in SpiffWorkflow's dict form (format 1); ``state`` is not changed.

    A finished workflow is pruned to its root task; otherwise ``expand_state(compact_state(s)) == s``.
    """
    dct = dict(state)
    if int(dct.get(FORMAT_KEY, 0)) != FULL_FORMAT:
        raise ValueError(f"only a format {FULL_FORMAT} dump can be compacted, not {dct.get(FORMAT_KEY)!r}")
    if dct.get("completed") is True:
        _prune_finished(dct)
    dct = _compact_tasks(dct)
    dct["subprocesses"] = {key: _compact_tasks(dict(sub)) for key, sub in (dct.get("subprocesses") or {}).items()}
    for key, empty in _WORKFLOW_DEFAULTS.items():
        if key in dct and dct[key] == empty:
            del dct[key]
    dct[FORMAT_KEY] = FORMAT_VERSION
    return dct


def expand_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """SpiffWorkflow's dict form (format 1) of a format 2 dump; other formats are returned as a shallow
    copy. ``state`` is not changed."""
    dct = dict(state)
    if int(dct.get(FORMAT_KEY, 0)) != FORMAT_VERSION:
        return dct
    for key, empty in _WORKFLOW_DEFAULTS.items():
        dct.setdefault(key, deepcopy(empty))
    dct = _expand_tasks(dct)
    dct["subprocesses"] = {key: _expand_tasks(dict(sub)) for key, sub in dct["subprocesses"].items()}
    dct[FORMAT_KEY] = FULL_FORMAT
    return dct


def _parents_first(state: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy whose ``tasks`` run from the root down.

    SpiffWorkflow stores a task's data as a delta from its parent's and rebuilds it in the order of
    the mapping: a dump whose keys were reordered (JSONB, ``jq -S``, ``sort_keys``) would load with
    the case data missing.
    """
    dct = dict(state)
    tasks: Mapping[str, Any] = dct.get("tasks") or {}
    dct["tasks"] = {task_id: tasks[task_id] for task_id in _root_down(tasks, dct.get("root"))}
    return dct


def load_state(
    state: Mapping[str, Any],
    spec: BpmnProcessSpec,
    subprocess_specs: Mapping[str, BpmnProcessSpec],
) -> BpmnWorkflow:
    """Restore a workflow from :func:`dump_state` output and the revision's compiled specs.

    The dump is read, not changed. A format 2 dump of task lists is read directly (:func:`_load_rows`).
    """
    if int(state.get(FORMAT_KEY, 0)) == FORMAT_VERSION and _fits_rows(state):
        try:
            return _load_rows(state, spec, subprocess_specs)
        except _DoesNotFit:
            pass
    return load_state_via_spiff(state, spec, subprocess_specs)


def load_state_via_spiff(
    state: Mapping[str, Any],
    spec: BpmnProcessSpec,
    subprocess_specs: Mapping[str, BpmnProcessSpec],
) -> BpmnWorkflow:
    """:func:`load_state` through :func:`expand_state` and SpiffWorkflow's converters: every format, and the
    reference the direct way is tested against (the converter pops keys, so it gets shallow copies).
    """
    dct = _parents_first(expand_state(state))
    dct["subprocesses"] = {key: _parents_first(sub) for key, sub in dct.get("subprocesses", {}).items()}
    dct.pop(PRUNED_KEY, None)
    version = int(dct.pop(FORMAT_KEY, 0))
    while version < FULL_FORMAT:
        MIGRATIONS[version](dct)
        version += 1
    dct.pop(SPIFF_VERSION_KEY, None)
    workflow: BpmnWorkflow = _SERIALIZER.registry.restore(
        {**dct, "typename": "BpmnWorkflow"}, spec=spec, subprocess_specs=subprocess_specs
    )
    return workflow


# --- format 2 written and read directly ----------------------------------------------------------------


class _DoesNotFit(Exception):
    """A workflow the direct way does not cover: SpiffWorkflow's converters take it."""


def _task_rows(workflow: Any, convert: Callable[[Any], Any]) -> tuple[list[list[Any]], dict[int, int]]:
    """The tasks of ``workflow`` as :func:`_compact_tasks` writes them from SpiffWorkflow's ``TaskConverter``
    dicts, and each task's position by its identity. Raises :class:`_DoesNotFit` where that would keep
    the mapping (a child missing or listed by two parents)."""
    tasks = workflow.tasks
    root = workflow.task_tree
    if root is None or tasks.get(root.id) is not root:
        raise _DoesNotFit
    # _root_down: breadth first from the root, then any task not below it, in mapping order
    order: list[Task] = []
    position: dict[int, int] = {}
    listed_by: dict[int, Task] = {}
    children: dict[int, list[Task]] = {}

    def children_of(task: Task) -> list[Task]:
        """The task's children, noted for its row; each task may be listed by one parent only."""
        found = children[id(task)] = [tasks.get(child_id) for child_id in task._children]
        for child in found:
            if child is None or listed_by.setdefault(id(child), task) is not task:
                raise _DoesNotFit
        return found

    pending: deque[Task] = deque([root])
    while pending:
        task = pending.popleft()
        if id(task) in position:
            continue
        position[id(task)] = len(order)
        order.append(task)
        if task._children:
            pending.extend(children_of(task))
    if len(order) != len(tasks):
        rest = [task for task in tasks.values() if id(task) not in position]
        for task in rest:
            position[id(task)] = len(order)
            order.append(task)
        for task in rest:
            children_of(task)
    rows: list[list[Any]] = []
    for task in order:
        if type(task) is not Task:
            raise _DoesNotFit
        extra: dict[str, Any] = {}
        if task._children:
            extra["c"] = [position[id(child)] for child in children[id(task)]]
        listed = listed_by.get(id(task))
        parent_id = task._parent
        parent = listed if listed is not None and listed.id is parent_id else (
            tasks.get(parent_id) if parent_id is not None else None)
        if listed is not parent:
            extra["p"] = str(parent_id) if parent is not None else None
        data = task.data
        if parent is not None:
            before = parent.data
            updates = {key: data[key] for key in data if key not in before or data[key] != before[key]}
            deletions = [key for key in before if key not in data]
            if updates or deletions:
                extra["d"] = {"updates": updates, "deletions": deletions}
        elif data != {}:
            extra["v"] = data
        if task.internal_data:
            internal = convert(task.internal_data)
            if internal != {}:
                extra["i"] = internal
        if task.triggered is not False:
            extra["g"] = task.triggered
        row = [str(task.id), task.task_spec.name, task._state, task.last_state_change]
        rows.append([*row, extra] if extra else row)
    return rows, position


def _workflow_dict(workflow: Any, convert: Callable[[Any], Any], clean: Callable[[Any], Any]) -> dict[str, Any]:
    """``WorkflowConverter.to_dict`` of ``workflow`` in format 2 (:func:`_compact_tasks`)."""
    rows, position = _task_rows(workflow, convert)
    last = workflow.last_task
    at = position.get(id(last)) if last is not None else None
    return {"data": convert(clean(workflow.data)), "correlations": workflow.correlations,
            "last_task": at if at is not None else (str(last.id) if last is not None else None),
            "success": workflow.success, "completed": workflow.completed, "tasks": rows}


def _dump_rows(workflow: BpmnWorkflow) -> dict[str, Any] | None:
    """:func:`dump_state_via_spiff` of a running workflow, written directly; None where it does not fit."""
    registry = _SERIALIZER.registry
    convert, clean = registry.convert, registry.clean
    try:
        if type(workflow) is not BpmnWorkflow:
            raise _DoesNotFit
        state = _workflow_dict(workflow, convert, clean)
        subprocesses: dict[str, Any] = {}
        for key, sub in workflow.subprocesses.items():
            if type(sub) is not BpmnSubWorkflow:
                raise _DoesNotFit
            subprocesses[str(key)] = {**_workflow_dict(sub, convert, clean), "parent_task_id": str(sub.parent_task_id),
                                      "spec": sub.spec.name, "typename": "BpmnSubWorkflow"}
    except _DoesNotFit:
        return None
    if state["correlations"] == {}:
        del state["correlations"]
    if subprocesses:
        state["subprocesses"] = subprocesses
    events = convert(workflow.bpmn_events)
    if events != []:
        state["bpmn_events"] = events
    state[FORMAT_KEY] = FORMAT_VERSION
    state[SPIFF_VERSION_KEY] = _SERIALIZER.VERSION
    return state


def _dump_pruned(workflow: BpmnWorkflow) -> dict[str, Any] | None:
    """:func:`dump_state_via_spiff` of a finished workflow (:func:`_prune_finished`: its data and root task),
    written directly; None where it does not fit."""
    root = workflow.task_tree
    if (type(workflow) is not BpmnWorkflow or root is None or type(root) is not Task or root._parent is not None
            or workflow.tasks.get(root.id) is not root):
        return None
    registry = _SERIALIZER.registry
    extra: dict[str, Any] = {}
    if root.internal_data:
        internal = registry.convert(root.internal_data)
        if internal != {}:
            extra["i"] = internal
    if root.triggered is not False:
        extra["g"] = root.triggered
    row = [str(root.id), root.task_spec.name, root._state, root.last_state_change]
    state: dict[str, Any] = {"data": registry.convert(registry.clean(workflow.data)),
                             "correlations": workflow.correlations, "last_task": None, "success": workflow.success,
                             "completed": workflow.completed, "tasks": [[*row, extra] if extra else row]}
    if state["correlations"] == {}:
        del state["correlations"]
    state[FORMAT_KEY] = FORMAT_VERSION
    state[SPIFF_VERSION_KEY] = _SERIALIZER.VERSION
    state[PRUNED_KEY] = True
    return state


def _fits_rows(state: Mapping[str, Any]) -> bool:
    """Whether :func:`_load_rows` reads ``state`` (format 2 with every task tree as a list)."""
    if not isinstance(state.get("tasks"), list) or not state["tasks"]:
        return False
    subprocesses = state.get("subprocesses") or {}
    return isinstance(subprocesses, Mapping) and all(
        isinstance(sub, Mapping) and isinstance(sub.get("tasks"), list) and sub["tasks"]
        and sub.get("typename") == "BpmnSubWorkflow" for sub in subprocesses.values())


def _restore_rows(workflow: Any, dct: Mapping[str, Any], restore: Callable[[Any], Any]) -> None:
    """``TaskConverter.from_dict`` of each row of ``dct["tasks"]`` (rows run parents first), then the
    workflow's ``set_default_attributes``."""
    rows: list[list[Any]] = dct["tasks"]
    ids = [UUID(row[0]) for row in rows]
    by_text: dict[str, UUID] = {}

    def parsed(text: str) -> UUID:
        if not by_text:
            by_text.update((row[0], ids[n]) for n, row in enumerate(rows))
        return by_text.get(text) or UUID(text)

    parents: list[int | None] = [None] * len(rows)  # the row of each task's parent, from the children lists
    for n, row in enumerate(rows):
        if len(row) > 4:
            for child in row[4].get("c", ()):
                parents[child] = n
    made: list[Task] = []
    tasks = workflow.tasks
    specs = workflow.spec.task_specs
    events = workflow.top_workflow.event_manager
    for n, row in enumerate(rows):
        extra: Mapping[str, Any] = row[4] if len(row) > 4 else {}
        if extra.keys() - _SHORT:
            raise _DoesNotFit
        task_spec = specs.get(row[1])
        task = Task(workflow, task_spec, state=row[2], id=ids[n])
        above = parents[n]
        parent: Task | None = None
        if "p" in extra:
            task._parent = parsed(extra["p"]) if extra["p"] is not None else None
            parent = tasks.get(task._parent) if task._parent is not None else None
        elif above is not None:
            task._parent = ids[above]
            parent = made[above] if above < n else None  # a parent's row comes first: a later one is not there yet
        made.append(task)
        task._children = [ids[child] for child in extra.get("c", ())]
        task.last_state_change = row[3]
        task.triggered = extra.get("g", False)
        task.internal_data = restore(extra["i"]) if "i" in extra else {}
        if isinstance(task_spec, CatchingEvent) and task._state & TaskState.WAITING:
            events.add_task(task)
        delta = extra.get("d", _NO_DELTA if task._parent is not None else {})
        if delta and parent is not None:
            data = DeepMerge.merge({}, parent.data)
            data.update(restore(delta.get("updates", {})))
            for key in delta.get("deletions", {}):
                if key in data:
                    del data[key]
        else:
            data = restore(extra["v"]) if "v" in extra else {}
        task.data = data
    root = dct.get("root")
    workflow.task_tree = tasks.get(parsed(root) if root is not None else ids[0])
    workflow.success = dct["success"]
    workflow.completed = dct.get("completed", False)
    workflow.correlations = dct.get("correlations", {})
    last = dct.get("last_task")
    if isinstance(last, int) and not isinstance(last, bool):
        workflow.last_task = tasks.get(ids[last])
    elif isinstance(last, str):
        workflow.last_task = tasks.get(parsed(last))
    workflow.data = restore(dct.get("data", {}))


def _restore_subprocesses(pending: dict[str, Any], workflow: Any, top: BpmnWorkflow,
                          restore: Callable[[Any], Any]) -> None:
    """``subprocesses_from_dict``: each subprocess under the task that called it, parents first."""
    for task in list(workflow.tasks.values()):
        if isinstance(task.task_spec, SubWorkflowTask) and (key := str(task.id)) in pending:
            dct = pending.pop(key)
            sub = BpmnSubWorkflow(top.subprocess_specs.get(task.task_spec.spec), task.id, top, deserializing=True)
            _restore_rows(sub, dct, restore)
            top.subprocesses[task.id] = sub
            sub.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
            _restore_subprocesses(pending, sub, top, restore)


def _load_rows(state: Mapping[str, Any], spec: BpmnProcessSpec,
               subprocess_specs: Mapping[str, BpmnProcessSpec]) -> BpmnWorkflow:
    """:func:`load_state` of a format 2 dump read directly (:func:`_fits_rows`)."""
    restore = _SERIALIZER.registry.restore
    workflow = BpmnWorkflow(spec, dict(subprocess_specs), deserializing=True)
    _restore_rows(workflow, state, restore)
    _restore_subprocesses(dict(state.get("subprocesses") or {}), workflow, workflow, restore)
    workflow.bpmn_events = restore(state.get("bpmn_events", []))
    return workflow
