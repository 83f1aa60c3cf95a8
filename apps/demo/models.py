"""What the demo's webhook receiver took in: each delivery, kept to show that one arrived."""

from __future__ import annotations

from django.db import models


class ReceivedDelivery(models.Model):
    """One POST to /demo/webhooks/<endpoint>/, well formed, whether its signature held or not
    (a refused one shows a person why their webhook is failing)."""

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    endpoint = models.SlugField(max_length=64)
    # Standard Webhooks' message id: the same on each retry, so a repeat shows as such.
    webhook_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=64, blank=True)
    verified = models.BooleanField()
    body = models.JSONField()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "received deliveries"

    def __str__(self) -> str:
        return f"{self.endpoint} {self.webhook_id}"
