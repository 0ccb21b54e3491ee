from django.db import migrations

TAGS = [
    # code, name, sensitive, derived
    ("elderly_60", "60岁以上老人", False, True),
    ("minor", "未成年人", False, True),
    ("living_alone", "独居", False, False),
    ("disabled", "残疾人", True, False),
    ("low_income", "低保/低收入", True, False),
    ("veteran", "退役军人", False, False),
    ("special_care", "特殊关爱对象", True, False),
]


def add(apps, schema_editor):  # type: ignore[no-untyped-def]
    Tag = apps.get_model("registry", "Tag")
    for code, name, sensitive, derived in TAGS:
        Tag.objects.update_or_create(code=code, defaults={"name": name, "is_sensitive": sensitive, "is_derived": derived})


def remove(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("registry", "Tag").objects.filter(code__in=[t[0] for t in TAGS]).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
