"""Choosing the processor of a run: the built-in Percenty step2/step3, or a plugin `package.module:Class`."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from stepbatch.engine.protocol import StepProcessor
from stepbatch.errors import UserError

STEPS = ("step2", "step3")


def check_step(step: str) -> str:
    if step not in STEPS:
        raise UserError(f"unknown step {step!r}: choose one of {', '.join(STEPS)}")
    return step


def load_plugin_class(spec: str) -> type:
    """Import `package.module:Class` (one-line UserError when it cannot be found)."""
    module_name, sep, class_name = spec.partition(":")
    if not sep or not module_name or not class_name:
        raise UserError(f"--processor {spec!r}: expected package.module:Class")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"--processor {spec!r}: cannot import {module_name!r} ({exc})") from None
    cls = getattr(module, class_name, None)
    if cls is None or not inspect.isclass(cls):
        raise UserError(f"--processor {spec!r}: {module_name!r} has no class {class_name!r}")
    return cls


def build_processor(
    step: str,
    base_url: str,
    *,
    plugin: str | None = None,
    max_products_per_code: int | None = None,
    translate_all: bool = False,
) -> StepProcessor:
    """The processor for `step`; a plugin gets `base_url` (and the others) when its constructor takes them.

    `translate_all` (step3) switches the OCR translation gate off: every image a command names is pressed.
    """
    check_step(step)
    if plugin:
        cls = load_plugin_class(plugin)
        available: dict[str, Any] = {"base_url": base_url, "max_products_per_code": max_products_per_code}
        if step == "step3":
            available["translate_all"] = translate_all
        processor = _construct(cls, plugin, **available)
    elif step == "step3":
        from stepbatch.sites.percenty import Step3Processor

        processor = Step3Processor(
            base_url, max_products_per_code=max_products_per_code, translate_all=translate_all
        )
    else:
        from stepbatch.sites.percenty import Step2Processor

        processor = Step2Processor(base_url)
    if not isinstance(processor, StepProcessor):
        raise UserError(f"--processor {plugin!r}: needs a `step` attribute and open()/process() methods")
    if getattr(processor, "step", step) != step:
        raise UserError(f"--processor {plugin!r} is for {processor.step!r}, not {step!r}")
    return processor


def _construct(cls: type, spec: str, **available: Any) -> Any:
    params = inspect.signature(cls).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in available.items() if accepts_any or k in params}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise UserError(f"--processor {spec!r}: cannot construct it ({exc})") from None
