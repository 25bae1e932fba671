"""Bidding and dispatching layer: aggregators turn devices into bids, and activations into set-points.

Five aggregation models (section 7 of the architecture brief) group the eight DER categories:

========================  ==========================================  =========================
aggregation model         categories                                  approach
========================  ==========================================  =========================
``atomic``                shiftable (non-interruptible) loads         traces: postpone / advance
``chp``                   CHP units                                   physical
``curtailable``           variable RES, conventional, curtailable     physical
``storage``               stationary storage, EVs                     physical (energy group)
``tcl``                   thermostatically controlled loads           physical (temperature band)
========================  ==========================================  =========================

:func:`simulation.bidding.aggregators.build_bids` pools, per aggregator, node, aggregation model (and
merit-order cost segment), the flexibility every device has left in the direction its earlier-market
position leaves open, and offers it as the model's products (:mod:`simulation.bidding.products`:
profile bids with exclusive start times, deferrals with paybacks, energy-limited and curtailable bids).
:func:`simulation.bidding.dispatch.disaggregate` splits each pool's activation into device set-points
in proportion to each device's flexibility at delivery time, never beyond it; an atomic pool's shift
holds back its cycles (:mod:`simulation.bidding.atomic`).
"""

from coordstudio.simulation.bidding.aggregators import AGGREGATION_MODELS, BidBook, build_bids
from coordstudio.simulation.bidding.dispatch import disaggregate

__all__ = ["AGGREGATION_MODELS", "BidBook", "build_bids", "disaggregate"]
