"""A build's wait for network-vif-plugged: ended by the events, by the ports' status when
an event is lost, or by the timeout."""

from __future__ import annotations

import threading
import time

from stratus.compute.plugging import PlugEvents


def test_events_end_the_wait():
    events = PlugEvents()
    threading.Timer(0.1, lambda: (events.deliver("i", "p1"), events.deliver("i", "p2"))).start()
    started = time.monotonic()
    assert events.wait("i", ["p1", "p2"], 30, lambda ids: set()) == set()
    assert time.monotonic() - started < 5
    assert not events.deliver("i", "p1")  # nobody waits any more


def test_a_lost_event_is_made_up_for_by_the_ports_status():
    events = PlugEvents()
    wired: set[str] = set()
    threading.Timer(0.2, lambda: wired.add("p1")).start()
    assert events.wait("i", ["p1"], 30, lambda ids: wired & set(ids)) == set()


def test_ports_nobody_wires_are_named_after_the_timeout():
    events = PlugEvents()
    events.deliver("other", None)
    assert events.wait("i", ["p1", "p2"], 0.3, lambda ids: {"p2"} & set(ids)) == {"p1"}
