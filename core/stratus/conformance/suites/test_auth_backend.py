"""The auth-backend suite (namespace ``stratus.auth``).

It works on a standard dataset in the ``default`` domain (see :data:`DATASET`): a writable
backend gets it created by the suite; a read-only backend's test fixtures must load it
into the backend before the run (``docs/conformance.md`` shows the LDIF for LDAP).
"""

from __future__ import annotations

import pytest

from stratus.exceptions import Conflict, NotAuthenticated, NotFound
from stratus.interfaces.auth import AuthCapability, Group, ListQuery, User

DOMAIN = "default"
#: name -> (password, enabled); alice is in the group ``conformance-devs``, bob is disabled
DATASET = {"conformance-alice": ("alice-secret-1", True), "conformance-bob": ("bob-secret-2", False),
           "conformance-carol": ("carol-secret-3", True)}
GROUP = "conformance-devs"


@pytest.fixture
def dataset(driver):
    """Users and group of :data:`DATASET`, created when the backend is writable."""
    created_users, created_group = [], None
    if AuthCapability.WRITE in driver.capabilities:
        for index, (name, (password, enabled)) in enumerate(sorted(DATASET.items())):
            user = driver.create_user(User(f"conformance{index:026d}", name, DOMAIN, enabled), password)
            created_users.append(user.id)
        created_group = driver.create_group(Group("conformancegroup0000000000000000", GROUP, DOMAIN)).id
        driver.add_user_to_group(driver.get_user_by_name("conformance-alice", DOMAIN).id, created_group)
    try:
        users = {name: driver.get_user_by_name(name, DOMAIN) for name in DATASET}
    except NotFound as exc:
        pytest.fail(f"the backend does not hold the conformance dataset ({exc}); a read-only backend's "
                    "fixtures must load it, see docs/conformance.md")
    yield users
    if created_group:
        driver.delete_group(created_group)
    for user_id in created_users:
        driver.delete_user(user_id)


def test_authenticate_returns_the_user(driver, dataset):
    alice = dataset["conformance-alice"]
    user = driver.authenticate(alice.id, "alice-secret-1")
    assert (user.id, user.name, user.domain_id, user.enabled) == (alice.id, "conformance-alice", DOMAIN, True)


@pytest.mark.parametrize(("name", "password"), [
    ("conformance-alice", "wrong"), ("conformance-alice", ""), ("conformance-bob", "bob-secret-2"),
    ("conformance-alice", "alice-secret-1 "), ("conformance-alice", "ALICE-SECRET-1"),
])
def test_wrong_password_and_disabled_user_fail_alike(driver, dataset, name, password):
    with pytest.raises(NotAuthenticated) as failure:
        driver.authenticate(dataset[name].id, password)
    with pytest.raises(NotAuthenticated) as unknown:
        driver.authenticate("no-such-user-id", password)
    assert str(failure.value) == str(unknown.value)


def test_lookups_by_id_and_name(driver, dataset):
    carol = dataset["conformance-carol"]
    assert driver.get_user(carol.id) == carol
    assert dataset["conformance-bob"].enabled is False
    with pytest.raises(NotFound):
        driver.get_user("no-such-user-id")
    with pytest.raises(NotFound):
        driver.get_user_by_name("conformance-alice", "another-domain")
    with pytest.raises(NotFound):
        driver.get_user_by_name("nobody-by-this-name", DOMAIN)


def test_names_are_not_patterns(driver, dataset):
    for tricky in ("conformance-*", "*", "conformance-alice)(uid=*", "conformance-alice*", "%", "conformance%"):
        with pytest.raises(NotFound):
            driver.get_user_by_name(tricky, DOMAIN)
        assert driver.list_users(ListQuery(domain_id=DOMAIN, name=tricky)) == []


def test_list_users_filters_orders_and_pages(driver, dataset):
    ours = {u.id for u in dataset.values()}
    listed = [u for u in driver.list_users(ListQuery(domain_id=DOMAIN)) if u.id in ours]
    assert [u.id for u in listed] == sorted(ours)
    by_name = driver.list_users(ListQuery(domain_id=DOMAIN, name="conformance-carol"))
    assert [u.id for u in by_name] == [dataset["conformance-carol"].id]
    enabled = {u.id for u in driver.list_users(ListQuery(domain_id=DOMAIN, enabled=True))}
    assert dataset["conformance-alice"].id in enabled and dataset["conformance-bob"].id not in enabled
    everyone = driver.list_users(ListQuery(domain_id=DOMAIN))
    first = driver.list_users(ListQuery(domain_id=DOMAIN, limit=1))
    assert len(first) == 1 and first[0].id == everyone[0].id
    rest = driver.list_users(ListQuery(domain_id=DOMAIN, marker=first[0].id))
    assert [u.id for u in rest] == [u.id for u in everyone[1:]]


def test_groups_and_membership(driver, dataset):
    groups = {g.name: g for g in driver.list_groups(ListQuery(domain_id=DOMAIN))}
    devs = groups[GROUP]
    assert driver.get_group(devs.id) == devs
    alice, carol = dataset["conformance-alice"], dataset["conformance-carol"]
    assert [g.id for g in driver.list_groups_for_user(alice.id)] == [devs.id]
    assert driver.list_groups_for_user(carol.id) == []
    assert [u.id for u in driver.list_users_in_group(devs.id)] == [alice.id]
    for call in (lambda: driver.get_group("no-such-group"), lambda: driver.list_users_in_group("no-such-group"),
                 lambda: driver.list_groups_for_user("no-such-user-id")):
        with pytest.raises(NotFound):
            call()


@pytest.mark.requires_capability("WRITE")
def test_writes_keep_names_unique_and_apply(driver, dataset):
    with pytest.raises(Conflict):
        driver.create_user(User("conformance-dup", "conformance-alice", DOMAIN), "x")
    carol = dataset["conformance-carol"]
    updated = driver.update_user(User(carol.id, carol.name, DOMAIN, False, email="carol@example.org"))
    assert updated.enabled is False and driver.get_user(carol.id).email == "carol@example.org"
    with pytest.raises(NotAuthenticated):
        driver.authenticate(carol.id, "carol-secret-3")


@pytest.mark.requires_capability("WRITE")
def test_password_changes_apply_at_once(driver, dataset):
    alice = dataset["conformance-alice"]
    driver.set_password(alice.id, "a-new-secret")
    assert driver.authenticate(alice.id, "a-new-secret").id == alice.id
    with pytest.raises(NotAuthenticated):
        driver.authenticate(alice.id, "alice-secret-1")


@pytest.mark.requires_capability("WRITE")
def test_membership_changes(driver, dataset):
    devs = next(g for g in driver.list_groups(ListQuery(domain_id=DOMAIN)) if g.name == GROUP)
    carol = dataset["conformance-carol"]
    driver.add_user_to_group(carol.id, devs.id)
    driver.add_user_to_group(carol.id, devs.id)  # idempotent
    assert {u.id for u in driver.list_users_in_group(devs.id)} == {carol.id, dataset["conformance-alice"].id}
    driver.remove_user_from_group(carol.id, devs.id)
    with pytest.raises(NotFound):
        driver.remove_user_from_group(carol.id, devs.id)
    with pytest.raises(NotFound):
        driver.add_user_to_group("no-such-user-id", devs.id)
