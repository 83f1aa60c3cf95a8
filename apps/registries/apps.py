from django.apps import AppConfig


class RegistriesConfig(AppConfig):
    name = "apps.registries"
    label = "registries"
    verbose_name = "Registries"

    def ready(self) -> None:
        from apps.accounts.signals import organization_created
        from apps.registries.services import create_core_registries

        # Every organization comes with its core registries, however it is created.
        organization_created.connect(create_core_registries, dispatch_uid="core-registries")
