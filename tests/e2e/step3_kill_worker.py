"""`stepbatch run …` that SIGKILLs itself right after the first OCR decision "Chinese text" is durably
journaled, before its press (the e2e test of a crash between the decision and the press)."""

from __future__ import annotations

import os
import signal
import sys

from stepbatch.cli import main
from stepbatch.sites.percenty import translation

_put = translation.ImageJournal.put


def _put_then_die(self, position, **fields):
    _put(self, position, **fields)
    if fields.get("zh") is True:
        os.kill(os.getpid(), signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)


translation.ImageJournal.put = _put_then_die  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.argv = ["stepbatch", *sys.argv[1:]]
    main()
