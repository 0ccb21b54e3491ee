# Password policy profiles and session rules (issue 10).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def stamp_existing_passwords(apps, schema_editor):
    """Give accounts that already exist a full maximum age from today.

    Their real change date was never recorded; reading it as ``date_joined`` would force every
    account older than 90 days to change on the day of the upgrade, locking a whole street
    office out of the platform at once. Unusable passwords ("!…": SMS-only residents, demo
    workers) stay null: they never expire.
    """
    User = apps.get_model("accounts", "User")
    usable = User.objects.exclude(password__startswith="!").exclude(password="")  # noqa: S106 (hash prefixes)
    usable.update(password_changed_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_two_factor"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="password_changed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="密码修改时间"),
        ),
        migrations.RunPython(stamp_existing_passwords, migrations.RunPython.noop, elidable=True),
        migrations.CreateModel(
            name="PasswordHistory",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("password", models.CharField(max_length=128)),
                ("created_at", models.DateTimeField()),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="password_history",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "历史密码",
                "verbose_name_plural": "历史密码",
                "indexes": [models.Index(fields=["user", "-created_at"], name="password_history_recent")],
            },
        ),
        migrations.CreateModel(
            name="UserSession",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("session_key", models.CharField(max_length=40, unique=True)),
                ("created_at", models.DateTimeField()),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="login_sessions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "登录会话",
                "verbose_name_plural": "登录会话",
            },
        ),
    ]
