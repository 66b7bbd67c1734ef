"""The contract of `stepbatch.state.store.AccountLease`, run against every lease backend.

Parametrized over `state_store_backends.LEASE_FACTORIES`: a new backend adds a factory there and must
pass every test here unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from state_store_backends import LEASE_FACTORIES, StoreBackendFactory
from state_store_child import hard_kill, read_line, spawn

from stepbatch.errors import EXIT_LOCKED
from stepbatch.state.lock import AccountBusy, AccountLock
from stepbatch.state.store import AccountLease

ACCOUNT, STEP = "ABC", "step3"


@pytest.fixture(params=sorted(LEASE_FACTORIES))
def lease_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackendFactory:
    return LEASE_FACTORIES[request.param].create(tmp_path)


def test_the_file_lock_is_an_account_lease(tmp_path: Path) -> None:
    assert AccountLease in AccountLock.__mro__  # declared, not only structurally alike
    assert isinstance(AccountLock(tmp_path, ACCOUNT, STEP), AccountLease)


def test_lease_acquire_and_release(lease_factory: StoreBackendFactory) -> None:
    backend = lease_factory.backend()
    lease = backend.lease(ACCOUNT, STEP)
    assert lease.account == ACCOUNT
    lease.acquire()
    try:
        second = lease_factory.reopen().lease(ACCOUNT, "step2")
        with pytest.raises(AccountBusy) as busy:
            second.acquire()
        assert busy.value.exit_code == EXIT_LOCKED == 3
        assert ACCOUNT in str(busy.value)
    finally:
        lease.release()
    second.acquire()
    second.release()


def test_lease_as_a_context_manager_releases(lease_factory: StoreBackendFactory) -> None:
    backend = lease_factory.backend()
    with backend.lease(ACCOUNT, STEP) as held:
        assert isinstance(held, AccountLease) and held.account == ACCOUNT
        with pytest.raises(AccountBusy):
            backend.lease(ACCOUNT, STEP).acquire()
    with pytest.raises(RuntimeError), backend.lease(ACCOUNT, STEP):
        raise RuntimeError("the run failed")
    with backend.lease(ACCOUNT, STEP):
        pass


def test_leases_of_different_accounts_do_not_conflict(lease_factory: StoreBackendFactory) -> None:
    backend = lease_factory.backend()
    with backend.lease(ACCOUNT, STEP), backend.lease("XYZ", STEP), lease_factory.reopen().lease("Q", STEP):
        pass


def test_a_lease_held_by_a_killed_process_is_free_again(lease_factory: StoreBackendFactory) -> None:
    child = spawn("lease", lease_factory.spec())
    try:
        assert read_line(child) == "LEASED"
        with pytest.raises(AccountBusy):
            lease_factory.backend().lease(ACCOUNT, STEP).acquire()
    finally:
        hard_kill(child)
    with lease_factory.reopen().lease(ACCOUNT, STEP) as lease:
        assert lease.account == ACCOUNT
