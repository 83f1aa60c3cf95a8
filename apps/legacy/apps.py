from django.apps import AppConfig


class LegacyConfig(AppConfig):
    name = "apps.legacy"
    label = "legacy"
    verbose_name = "Legacy Model Registry"

    def ready(self) -> None:
        from apps.legacy.paths import resolve_legacy_link
        from apps.registries.api import path_resolvers

        # Scripts written before the move keep working: the API follows legacy paths.
        path_resolvers.append(resolve_legacy_link)
