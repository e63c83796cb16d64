"""Alur: BPMN orchestration of Indonesian complaint-handling and whistle-blowing SOPs."""
