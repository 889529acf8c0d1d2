from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    from tjp.roles import sync_roles

    sync_roles()


class TjpConfig(AppConfig):
    name = "tjp"
    verbose_name = _("TJP core")

    def ready(self):
        from tjp import signals  # noqa: F401  (sign-in audit receivers)

        # Role groups follow the table in tjp.roles after every migrate.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="tjp.sync_roles")
