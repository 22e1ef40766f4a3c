"""Outbound delivery's Prometheus metrics, per integration kind, served at /metrics."""

from prometheus_client import Counter, Gauge

EVENTS_SENT = Counter(
    "lectern_outbound_events_sent", "Events a destination accepted, per integration.", ["kind"]
)
ATTEMPTS_FAILED = Counter(
    "lectern_outbound_attempts_failed", "Delivery attempts that failed, per integration.", ["kind"]
)
DESTINATIONS_PAUSED = Counter(
    "lectern_outbound_destinations_paused",
    "Destinations paused after failing too many times in a row, per integration.",
    ["kind"],
)
LAG_EVENTS = Gauge(
    "lectern_outbound_lag_events",
    "Event ids between the log's head and the furthest-behind active destination, at the last "
    "look, per integration.",
    ["kind"],
    multiprocess_mode="max",
)
LAG_SECONDS = Gauge(
    "lectern_outbound_lag_seconds",
    "Age of the oldest event waiting for the destination attempted last (0 once every active "
    "destination is at the head), per integration.",
    ["kind"],
    multiprocess_mode="max",
)
