import pytest

from tests.outbox.receiver import start_receiver


@pytest.fixture
async def receiver():
    r, runner = await start_receiver()
    yield r
    await runner.cleanup()


@pytest.fixture
def admin(auth):
    return auth("admin")
