"""Comments of staff on a case, visible to the members of the case's unit."""

from __future__ import annotations

from sqlalchemy import select

from service.commands.context import Actor, Services
from service.errors import InvalidInput, NotFound
from service.store.models import Case, Comment

MAX_LENGTH = 5000


def _check_visible(case: Case | None, actor: Actor, case_id: str) -> Case:
    if case is None or not actor.is_member(case.unit_id):
        raise NotFound(f"Case {case_id} does not exist or is not visible to you")
    return case


def add_comment(services: Services, actor: Actor, case_id: str, body: str, task_id: str | None = None) -> Comment:
    text = (body or "").strip()
    if not text or len(text) > MAX_LENGTH:
        raise InvalidInput(f"A comment needs 1 to {MAX_LENGTH} characters",
                           [{"field": "body", "message": "empty" if not text else "too long"}])
    with services.db.transaction() as session:
        _check_visible(session.get(Case, case_id), actor, case_id)
        comment = Comment(case_id=case_id, task_id=task_id, author_id=actor.user_id or None,
                          author=actor.username, body=text)
        session.add(comment)
        return comment


def list_comments(services: Services, actor: Actor, case_id: str) -> list[Comment]:
    with services.db.reading() as session:
        _check_visible(session.get(Case, case_id), actor, case_id)
        return list(session.scalars(select(Comment).where(Comment.case_id == case_id)
                                    .order_by(Comment.created_at, Comment.id)))
