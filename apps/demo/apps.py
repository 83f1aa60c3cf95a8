from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and benchmarks: they fill and measure every app, so they stand above all."""

    name = "apps.demo"
    label = "demo"
    verbose_name = "Demo data and benchmarks"
