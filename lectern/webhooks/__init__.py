"""Outbound webhooks: admins subscribe HTTPS endpoints to event types.

Deliveries are signed by the Standard Webhooks scheme.
"""
