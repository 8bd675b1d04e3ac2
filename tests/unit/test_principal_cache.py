"""PrincipalCache: expiry, targeted and global forgetting, and no stale write-back."""

from app.users.principal import Principal
from app.users.principal_cache import PrincipalCache

ALICE = Principal(username="alice", role="operator", user_id=1)
BOB = Principal(username="bob", role="supervisor", user_id=2)
PBX = Principal(username="apikey:pbx", role="operator", api_key_id=7)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _cache(ttl: float = 30.0) -> tuple[PrincipalCache, FakeClock]:
    clock = FakeClock()
    cache = PrincipalCache(ttl, clock=clock)
    cache.enable(True)
    return cache, clock


def test_entries_are_served_until_they_expire():
    cache, clock = _cache(ttl=30)
    cache.put(1, ALICE, cache.generation)
    clock.now += 29.9
    assert cache.get(1) == ALICE
    clock.now += 0.1
    assert cache.get(1) is None


def test_a_disabled_cache_stores_nothing_and_enabling_starts_empty():
    cache, _ = _cache()
    cache.put(1, ALICE, cache.generation)
    cache.enable(False)
    assert not cache.enabled and cache.get(1) is None
    cache.put(1, ALICE, cache.generation)
    assert cache.get(1) is None
    cache.enable(True)
    assert cache.get(1) is None


def test_ttl_zero_never_turns_on():
    cache = PrincipalCache(0)
    cache.enable(True)
    assert not cache.enabled


def test_forget_drops_only_the_changed_caller():
    cache, _ = _cache()
    for key, principal in ((1, ALICE), (2, BOB), ("hk_x_y", PBX)):
        cache.put(key, principal, cache.generation)
    cache.forget(user_id=1)
    assert (cache.get(1), cache.get(2), cache.get("hk_x_y")) == (None, BOB, PBX)
    cache.forget(api_key_id=7)
    assert (cache.get(2), cache.get("hk_x_y")) == (BOB, None)


def test_a_lookup_that_began_before_a_change_does_not_store_what_it_read():
    cache, _ = _cache()
    started = cache.generation  # the request reads the user...
    cache.forget(user_id=1)  # ...while an admin disables them
    cache.put(1, ALICE, started)
    assert cache.get(1) is None
    cache.put(1, ALICE, cache.generation)
    assert cache.get(1) == ALICE


def test_notices_name_a_user_or_a_key_and_anything_else_clears_all():
    cache, _ = _cache()
    for key, principal in ((1, ALICE), (2, BOB), ("k", PBX)):
        cache.put(key, principal, cache.generation)
    cache.on_notice("user:2")
    assert (cache.get(1), cache.get(2)) == (ALICE, None)
    cache.on_notice("apikey:7")
    assert cache.get("k") is None
    cache.on_notice("garbled")
    assert cache.get(1) is None
