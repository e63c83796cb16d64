"""Staff notes on a case, for those who see the whole case (:func:`service.commands.access.full_view`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands.access import Visible, full_view
from service.commands.context import Actor, Services
from service.errors import InvalidInput
from service.store.models import Comment, Task

MAX_LENGTH = 5000


def add_comment(services: Services, actor: Actor, case_id: str, body: str, task_id: str | None = None) -> Comment:
    text = (body or "").strip()
    if not text or len(text) > MAX_LENGTH:
        raise InvalidInput(f"A comment needs 1 to {MAX_LENGTH} characters",
                           [{"field": "body", "message": "empty" if not text else "too long"}])
    with services.db.transaction() as session:
        full_view(session, actor, case_id)
        if task_id is not None and session.scalar(select(Task.id).where(Task.id == task_id,
                                                                         Task.case_id == case_id)) is None:
            raise InvalidInput("The task is not part of this case", [{"field": "task_id", "message": "unknown"}])
        comment = Comment(case_id=case_id, task_id=task_id, author_id=actor.user_id or None,
                          author=actor.username, body=text)
        session.add(comment)
        return comment


def list_comments(services: Services, actor: Actor, case_id: str) -> list[Comment]:
    with services.db.reading() as session:
        return comments_of(session, full_view(session, actor, case_id))


def comments_of(session: Session, found: Visible) -> list[Comment]:
    """The staff notes of a case its viewer sees whole (``found``: the decision of :func:`full_view`)."""
    if not found.full:
        raise RuntimeError("comments_of needs a viewer who sees the whole case (full_view)")
    return list(session.scalars(select(Comment).where(Comment.case_id == found.case.id)
                                .order_by(Comment.created_at, Comment.id)))
