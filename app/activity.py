"""How many HTTP requests this process is serving now, so that background work can yield.

The API's ObserveMiddleware counts requests in and out; the webhook relay (app.outbox.relay)
waits while the count is above zero, a little, so that intake keeps the cores in a burst.
One counter per process (each uvicorn worker has its own relay and its own requests).
"""

_in_flight = 0


def started() -> None:
    """A request came in."""
    global _in_flight
    _in_flight += 1


def finished() -> None:
    """A request was answered (or failed)."""
    global _in_flight
    _in_flight -= 1


def busy() -> bool:
    """Whether this process is serving any request now."""
    return _in_flight > 0
