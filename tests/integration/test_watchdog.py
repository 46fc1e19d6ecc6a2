"""The deadline watchdog in real time: alarms fire on time whatever order they are armed in, none is missed
while the thread is awake, and cancelled alarms never pile up (its queue and heap stay bounded)."""

from __future__ import annotations

import threading
import time

from myclient._deadline import _COMPACT_AT, watchdog


def test_alarms_fire_in_due_order_and_on_time_whatever_order_they_were_armed_in() -> None:
    fired: dict[int, float] = {}
    done = threading.Event()
    began = time.monotonic()
    delays = [0.5, 0.3, 0.1, 0.2, 0.05]

    def callback(index: int) -> None:
        fired[index] = time.monotonic() - began
        if len(fired) == len(delays):
            done.set()

    for index, delay in enumerate(delays):
        watchdog.arm(delay, lambda index=index: callback(index))  # type: ignore[misc]
        for _ in range(700):  # cancelled alarms in between, as finished calls leave them
            watchdog.arm(30, lambda: None).cancel()
    assert done.wait(5)
    order = sorted(fired, key=fired.__getitem__)
    assert order == [4, 2, 3, 1, 0]
    for index, delay in enumerate(delays):
        assert delay - 0.01 <= fired[index] < delay + 0.25, (index, fired[index])


def test_cancelled_alarms_do_not_accumulate() -> None:
    for _ in range(20 * _COMPACT_AT):
        watchdog.arm(60, lambda: None).cancel()
    assert watchdog.pending() == 0
    assert len(watchdog._incoming) < _COMPACT_AT and len(watchdog._heap) <= 2 * _COMPACT_AT


def test_an_alarm_armed_from_many_threads_at_once_is_never_missed() -> None:
    hits: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def arm(n: int) -> None:
        barrier.wait()
        for k in range(50):
            def record(value: int = n * 100 + k) -> None:
                with lock:
                    hits.append(value)

            watchdog.arm(0.01 * (k % 5), record)

    threads = [threading.Thread(target=arm, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 5
    while len(hits) < 400 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(hits) == sorted(n * 100 + k for n in range(8) for k in range(50))
