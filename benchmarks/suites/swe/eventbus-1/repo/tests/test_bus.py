import pytest

from eventbus import EventBus, HandlerErrors, Recorder


def test_delivers_to_topic_and_wildcard():
    bus, log = EventBus(), []
    bus.subscribe("a", Recorder("one", log))
    bus.subscribe("*", Recorder("all", log))
    bus.subscribe("b", Recorder("two", log))
    assert bus.emit("a", 1) == 2
    assert log == [("one", "a", 1), ("all", "a", 1)]


def test_priority_then_subscription_order():
    bus, log = EventBus(), []
    for name, priority in [("low", -1), ("first", 0), ("high", 5), ("second", 0)]:
        bus.subscribe("t", Recorder(name, log), priority=priority)
    bus.emit("t")
    assert [name for name, _, _ in log] == ["high", "first", "second", "low"]


def test_cancel():
    bus = EventBus()
    rec = Recorder()
    sub = bus.subscribe("t", rec)
    bus.emit("t", 1)
    sub.cancel()
    sub.cancel()
    bus.emit("t", 2)
    assert rec.calls == [("t", 1)]
    assert bus.subscribers("t") == []


def test_once_alone():
    bus = EventBus()
    rec = Recorder()
    bus.subscribe("t", rec, once=True)
    bus.emit("t", 1)
    bus.emit("t", 2)
    assert rec.calls == [("t", 1)]


def test_errors_are_collected():
    bus = EventBus()
    rec = Recorder()

    def broken(topic, payload):
        raise RuntimeError("boom")

    bus.subscribe("t", broken, priority=1)
    bus.subscribe("t", rec)
    with pytest.raises(HandlerErrors, match="boom") as info:
        bus.emit("t", 7)
    assert rec.calls == [("t", 7)]
    assert info.value.errors[0][0].endswith("broken")


def test_cannot_emit_wildcard():
    with pytest.raises(ValueError):
        EventBus().emit("*")
