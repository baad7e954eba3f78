"""A local GitHub for tests and `align demo`: a real HTTP server that speaks the parts of GitHub's REST API
a review bot uses, with GitHub's limits and error texts, plus signed webhook deliveries."""

from app.simulator.faults import Fault
from app.simulator.server import Call
from app.simulator.simulator import Simulator
from app.simulator.webhooks import Delivery, sign

__all__ = ["Call", "Delivery", "Fault", "Simulator", "sign"]
