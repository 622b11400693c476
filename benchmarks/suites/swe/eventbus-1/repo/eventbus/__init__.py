"""An in-process publish/subscribe bus."""

from eventbus.bus import ANY, EventBus
from eventbus.errors import HandlerErrors
from eventbus.recorder import Recorder
from eventbus.subscription import Subscription

__all__ = ["ANY", "EventBus", "HandlerErrors", "Recorder", "Subscription"]
