"""The error taxonomy that drives the engine's reactions: it lives in `stepbatch.contracts.errors`."""

from stepbatch.contracts.errors import (
    ERROR_CLASSES,
    BrowserCrashed,
    ItemTimeout,
    LeaseLost,
    Permanent,
    Reaction,
    SessionExpired,
    StepError,
    StopAccount,
    Transient,
    error_class_name,
    reaction_of,
)

__all__ = [
    "ERROR_CLASSES",
    "BrowserCrashed",
    "ItemTimeout",
    "LeaseLost",
    "Permanent",
    "Reaction",
    "SessionExpired",
    "StepError",
    "StopAccount",
    "Transient",
    "error_class_name",
    "reaction_of",
]
