"""A local GitHub for tests and `align demo`: a real HTTP server that speaks the parts of GitHub's REST API
a review bot uses, with GitHub's limits and error texts, plus signed webhook deliveries."""

from align.simulator.faults import Fault
from align.simulator.server import Call
from align.simulator.simulator import Simulator
from align.simulator.webhooks import Delivery, sign

__all__ = ["Call", "Delivery", "Fault", "Simulator", "sign"]
