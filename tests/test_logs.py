"""Every process logs through ``service.logs.configure``: the records skip what no format shows."""

from __future__ import annotations

import logging

from service import logs
from service.app import create_app


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_records_carry_no_caller_thread_or_process() -> None:
    logs.configure()
    logger = logging.getLogger("alur.test_logs")
    keep = _Keep()
    logger.addHandler(keep)
    try:
        logger.warning("kasus %s", "ALR-1")
    finally:
        logger.removeHandler(keep)
    [record] = keep.records
    assert record.getMessage() == "kasus ALR-1"
    assert (record.lineno, record.threadName, record.processName) == (0, None, None)
    assert logging.getLogger("spiff").level == logging.WARNING


def test_the_format_uses_no_field_the_records_skip() -> None:
    skipped = ("%(lineno)", "%(funcName)", "%(filename)", "%(pathname)", "%(module)", "%(thread",
               "%(process")
    assert not any(field in logs.FORMAT for field in skipped)


def test_the_app_factory_configures_the_logs(tmp_path: object) -> None:
    logging.logThreads = True
    create_app({"testing": True, "database_url": f"sqlite:///{tmp_path}/logs.db"})
    assert logging.logThreads is False
