"""Running the simulator from Python: uvicorn in a thread, or `stepbatch simulator` as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

from stepbatch.simulator.app import create_app
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.seed import SeedAccount

READY_PREFIX = "simulator running at "


class SimulatorServer:
    """Context manager: `with SimulatorServer(db, workbook) as sim: sim.url, sim.db_path`.

    `mode="thread"` serves in this process (fast, for tests); `mode="subprocess"` runs the CLI in a child
    process (what a user runs; faults travel as `STEPBATCH_SIM_*` variables). Port 0 picks a free port.
    """

    def __init__(
        self,
        db: Path,
        workbook: Path | None = None,
        seed: int = 1,
        faults: Faults | None = None,
        mode: Literal["thread", "subprocess"] = "thread",
        host: str = "127.0.0.1",
        port: int = 0,
        accounts: list[SeedAccount] | None = None,
        counts: dict[str, int] | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.db_path = Path(db)
        self.workbook = Path(workbook) if workbook else None
        self.seed, self.faults, self.mode = seed, faults or Faults(), mode
        self.host, self.port = host, port
        self.accounts, self.counts = accounts, counts
        self.start_timeout = start_timeout
        self.url = ""
        self._server: uvicorn.Server | None = None
        self.app: ASGIApp | None = None  # thread mode: the app served (its `.timing` sums server time)
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self.mode == "thread":
            self._start_thread()
        elif self.mode == "subprocess":
            self._start_subprocess()
        else:
            raise ValueError(f"unknown mode {self.mode!r}")

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
            self._server = self._thread = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
            if self._proc.stdout:
                self._proc.stdout.close()
            self._proc = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _start_thread(self) -> None:
        app = create_app(self.db_path, self.workbook, self.seed, self.faults, self.accounts, self.counts)
        self.app = app
        config = uvicorn.Config(
            app, host=self.host, port=self.port, log_level="warning", lifespan="off", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="stepbatch-simulator", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}"

    def _start_subprocess(self) -> None:
        if self.accounts is not None or self.counts is not None:
            raise ValueError("accounts/counts are only supported in thread mode")
        cmd = [
            sys.executable,
            "-m",
            "stepbatch",
            "simulator",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--db",
            str(self.db_path),
            "--seed",
            str(self.seed),
        ]
        if self.workbook:
            cmd += ["--workbook", str(self.workbook)]
        env = {**os.environ, **self.faults.to_env(), "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8", env=env
        )
        lines: list[str] = []
        reader = threading.Thread(target=self._read_ready, args=(lines,), daemon=True)
        reader.start()
        reader.join(self.start_timeout)
        if not self.url:
            self.stop()
            raise RuntimeError("the simulator did not start: " + " | ".join(lines[-5:]))

    def _read_ready(self, lines: list[str]) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            lines.append(line.rstrip())
            if line.startswith(READY_PREFIX):
                self.url = line[len(READY_PREFIX) :].strip()
                threading.Thread(target=self._drain, daemon=True).start()
                return

    def _drain(self) -> None:
        proc = self._proc
        if proc is not None and proc.stdout is not None:
            try:
                for _ in proc.stdout:
                    pass
            except (ValueError, OSError):
                pass
