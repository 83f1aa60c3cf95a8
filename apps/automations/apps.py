from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "apps.automations"
    verbose_name = "Automations"

    def ready(self) -> None:
        from apps.audit.signals import audit_event_recorded
        from apps.automations.events import on_audit_event

        # Every change the audit log records may set off automations, in its own transaction.
        audit_event_recorded.connect(on_audit_event, dispatch_uid="automations")
