"""What the audit log announces to the apps above it, which it does not import."""

from django.dispatch import Signal

# Sent with `event` inside the transaction of the change it records, so whatever a receiver
# writes is kept or undone with the change: apps.automations records the executions it sets off.
audit_event_recorded = Signal()
