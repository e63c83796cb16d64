"""Alur's task and case states, mapped from SpiffWorkflow's ``TaskState`` in one place."""

from __future__ import annotations

from enum import StrEnum

from SpiffWorkflow.util.task import TaskState


class TaskStatus(StrEnum):
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    WAITING = "waiting"
    FUTURE = "future"

    @classmethod
    def of(cls, state: int) -> TaskStatus:
        if state == TaskState.READY:
            return cls.READY
        if state == TaskState.COMPLETED:
            return cls.COMPLETED
        if state in (TaskState.CANCELLED, TaskState.ERROR):
            return cls.CANCELLED
        if state == TaskState.WAITING:
            return cls.WAITING
        return cls.FUTURE


class CaseStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERROR = "error"
