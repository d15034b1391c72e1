from django.apps import AppConfig


class CruddurConfig(AppConfig):
    """The project itself, as an app only so its system checks are registered."""

    name = "cruddur"
    verbose_name = "Cruddur"

    def ready(self) -> None:
        from cruddur import checks  # noqa: F401  (registers the checks)
