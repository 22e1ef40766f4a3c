"""Delivery of the event log to outside systems (webhook endpoints, learning record stores).

The log (lectern.events) holds every fact in commit order, once. A *destination*
(`outbound_destinations`) is one outside system of one institution, with a *cursor*:
`delivered_through`, the event id up to which every event was sent to it or was not for it.
A worker per integration kind and process moves each cursor forward:

1. it reads the log's head: the newest id at or below which every event is final (committed,
   or never to exist; lectern.live.pump gives the argument), so a late commit is never skipped;
2. it claims a due destination of its kind (active, `next_attempt_at` passed, cursor behind the
   head), the one waited on longest; on PostgreSQL `FOR UPDATE SKIP LOCKED`, in a transaction
   held open until the outcome is recorded, so that several processes never send one
   destination anything at the same time;
3. it reads the destination's institution's events after the cursor in id order (never another
   institution's), keeps those the integration selects, and sends at most a batch of them;
4. in the same transaction it records a delivery row (status, HTTP status, attempt, response
   time, error, first and last event id) and, on success, moves the cursor past the batch
   (or past its first events, when the destination took only those: one request per event);
   on failure it leaves the cursor, counts the failure and sets the next attempt after an
   exponential backoff with jitter (rules.py). A failing batch therefore blocks the ones
   after it: delivery is in order per destination. After `outbound_pause_after_failures`
   failures in a row the destination is paused, and the integration's `on_paused` runs in
   that transaction to tell its admins; `service.resume` sets it going again.

Exactly once, as far as the receiver's help allows: the cursor moves in the transaction that
records the success, so a sender killed between the receiver's answer and that commit sends
the batch again. Each message carries a stable id made from its event id (webhooks:
`webhook-id`, xAPI: the statement id), by which the receiver recognises and drops the second
copy. Nothing is skipped and nothing is reordered. `service.replay_from` moves a cursor back;
the replayed messages keep their ids.

An integration plugs in with an `OutboundKind` (kinds.py) and its own table of settings keyed
by the destination's id:

    XAPI = OutboundKind(
        name="xapi",
        load=load_lrs,              # async (session, destination_id) -> target | None
        send=send_statements,       # async (target, [LoggedEvent]) -> Accepted; raises SendFailed
        select=is_learning_event,   # (target, LoggedEvent) -> bool
        event_types=lambda _: XAPI_TYPES,
        on_paused=tell_admins,      # async (session, target, Paused) -> None
        batch_size=50,
    )

    destination = await service.create_destination(session, kind="xapi", institution_id=...)
    # ... its own row with id=destination.id, in the same command

and runs in the app's lifespan as `worker.outbound_rounds(database, settings, XAPI)`, started
with the app and stopped between two rounds (lectern.platform.rounds). Counters per kind are
at /metrics (metrics.py): events sent, failed attempts, paused destinations, lag behind the log
in events and seconds.

Its admins see the same things for every kind: an integration's admin router adds the replay
and resume endpoints with `api.add_destination_actions`, answers delivery attempts as
`schemas.DeliveryOut`, and its page lists them with `service.with_recent_deliveries` through the
macros of templates/admin/outbound_destination.html and static/destinations.js.
"""
