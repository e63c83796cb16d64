"""Application commands: one transaction each, used by the API, the web pages, the worker and the CLI.

A command loads what it needs from the store, runs the engine, and writes the case state, the
task projection, history and outbox rows together (see ``sync``).
"""
