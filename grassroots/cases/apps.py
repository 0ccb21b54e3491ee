from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "grassroots.cases"
    label = "cases"
    verbose_name = "诉求办理"

    def ready(self) -> None:
        from grassroots.cases.subject_data import register

        register()  # the cases a resident reported, in the copy of their data (registry subject requests)
