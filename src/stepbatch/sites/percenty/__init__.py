"""Percenty site adapter: selectors, page objects and the step2/step3 processors."""

from stepbatch.sites.percenty.step2 import Step2Processor
from stepbatch.sites.percenty.step3 import Step3Processor

__all__ = ["Step2Processor", "Step3Processor"]
