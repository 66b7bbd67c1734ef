"""Orchestration between the CLI and the engine: building processors and browsers, checks, progress."""
