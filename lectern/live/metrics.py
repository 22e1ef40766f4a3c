"""The live stream's Prometheus metrics, served at /metrics.

Each process counts its own streams. With several processes behind one scrape target, set
PROMETHEUS_MULTIPROC_DIR (an empty directory per deployment) and /metrics sums them all.
"""

import os

from fastapi import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from lectern.platform.routes import api_router

OPEN_STREAMS = Gauge(
    "lectern_stream_open", "Event streams open in this process.", multiprocess_mode="livesum"
)
EVENTS_DELIVERED = Counter(
    "lectern_stream_events_delivered", "Events written to streams (one per stream and event)."
)
EVENTS_REPLAYED = Counter(
    "lectern_stream_events_replayed", "Events written to streams from the table on resume."
)
SUBSCRIBERS_DROPPED = Counter(
    "lectern_stream_subscribers_dropped", "Streams closed because they could not keep up."
)
PUMP_LAG = Histogram(
    "lectern_stream_pump_lag_seconds",
    "Seconds from an event's creation to its fan-out in this process.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LISTENER_CONNECTS = Counter(
    "lectern_events_listener_connects", "Connections made by the PostgreSQL LISTEN connection."
)

router = api_router(tags=["ops"])


@router.get("/metrics", include_in_schema=False)
async def metrics_endpoint() -> Response:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
