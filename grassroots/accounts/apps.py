from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "grassroots.accounts"
    label = "accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        from grassroots.accounts import sessions

        sessions.connect()
