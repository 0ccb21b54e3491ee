from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "grassroots.notify"
    label = "notify"
    verbose_name = "通知"
