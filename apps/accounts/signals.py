"""What accounts announces to the apps above it, which it does not import."""

from django.dispatch import Signal

# Sent with `organization` inside the transaction that creates it, so whatever a receiver adds
# is made or undone with the organization: apps.registries adds the core registries.
organization_created = Signal()
