"""Delivery of the event log to outside systems.

A cursor per destination over the log, batches, retries with backoff, pausing.
"""
