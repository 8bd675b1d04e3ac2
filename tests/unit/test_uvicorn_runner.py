"""Each worker binds its own listening socket on the shared port; a port some other server
listens on is refused before any worker starts."""

import pytest

from app.uvicorn_runner import _bind


def test_workers_share_the_port_and_a_plain_bind_finds_it_taken():
    first = _bind("127.0.0.1", 0, reuse_port=True)
    port = first.getsockname()[1]
    second = _bind("127.0.0.1", port, reuse_port=True)
    try:
        first.listen()
        second.listen()
        with pytest.raises(OSError):
            _bind("127.0.0.1", port, reuse_port=False)
    finally:
        first.close()
        second.close()
    _bind("127.0.0.1", port, reuse_port=False).close()  # free again once they are gone
