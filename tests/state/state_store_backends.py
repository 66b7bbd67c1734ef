"""The state backends the contract tests run against, one factory each.

A new backend (say `"postgres"`) adds a factory class and one entry to `STORE_FACTORIES` (and, if it
has its own lease, to `LEASE_FACTORIES`); the contract tests then run against it unchanged. A factory
gives a backend, a second backend on the same storage as a new process would see it (`reopen`), and a
JSON-able `spec` from which a child process builds that backend (`from_spec`).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, ClassVar, Protocol

from stepbatch.state.backends import FileBackend
from stepbatch.state.store import StateBackend


class StoreBackendFactory(Protocol):
    name: ClassVar[str]

    @classmethod
    def create(cls, tmp_path: Path) -> StoreBackendFactory: ...  # may pytest.skip (no server)
    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> StateBackend: ...  # in a child process
    def backend(self) -> StateBackend: ...
    def reopen(self) -> StateBackend: ...  # the same storage, as a new process opens it
    def spec(self) -> dict[str, Any]: ...


class FileBackendFactory:
    name: ClassVar[str] = "file"

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    @classmethod
    def create(cls, tmp_path: Path) -> FileBackendFactory:
        state_dir = tmp_path / "state"
        state_dir.mkdir()
        return cls(state_dir)

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> StateBackend:
        return FileBackend(Path(spec["state_dir"]))

    def backend(self) -> StateBackend:
        return FileBackend(self.state_dir)

    def reopen(self) -> StateBackend:
        return FileBackend(self.state_dir)

    def spec(self) -> dict[str, Any]:
        return {"backend": self.name, "state_dir": str(self.state_dir)}


class PgBackendFactory:
    """`PgBackend` on a fresh database of this process's throwaway PostgreSQL (tests/conftest.py's)."""

    name: ClassVar[str] = "postgres"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    @classmethod
    def create(cls, tmp_path: Path) -> PgBackendFactory:
        import pytest

        from stepbatch.state.pg.throwaway import PostgresNotInstalled, shared_server

        try:
            server = shared_server()
        except PostgresNotInstalled as exc:
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is required on CI: {exc}")
            pytest.skip(str(exc))
        return cls(server.new_database())

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> StateBackend:
        from stepbatch.state.pg.backend import PgBackend

        return PgBackend(spec["dsn"], holder=spec["holder"])

    def backend(self) -> StateBackend:
        return self.from_spec(self.spec())

    def reopen(self) -> StateBackend:
        return self.from_spec(self.spec())

    def spec(self) -> dict[str, Any]:
        # every backend its own holder, as every worker process and job has
        return {"backend": self.name, "dsn": self.dsn, "holder": f"test-{uuid.uuid4().hex[:8]}"}


STORE_FACTORIES: dict[str, type[StoreBackendFactory]] = {
    "file": FileBackendFactory,
    "postgres": PgBackendFactory,
}
LEASE_FACTORIES: dict[str, type[StoreBackendFactory]] = {
    "filelock": FileBackendFactory,
    "postgres": PgBackendFactory,
}


def backend_from_spec(spec: dict[str, Any]) -> StateBackend:
    factories = {f.name: f for f in (*STORE_FACTORIES.values(), *LEASE_FACTORIES.values())}
    return factories[spec["backend"]].from_spec(spec)
