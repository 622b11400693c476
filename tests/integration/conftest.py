"""A local model's server lingers after its last user (see `LocalServer.linger_s`): in a test
process that would carry one test's server, its log file and its start count into the next.
Each test here stops what it left lingering."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opensage.models.local import LocalServer


@pytest.fixture(autouse=True)
def no_lingering_server() -> Iterator[None]:
    yield
    for server in LocalServer._shared.values():
        if server.users <= 0:
            server.stop()
