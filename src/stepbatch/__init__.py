"""stepbatch: crash-safe batch runner for Percenty back-office automations."""

__version__ = "0.1.0"
