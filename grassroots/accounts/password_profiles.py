"""The password policy profiles as plain data, so ``config/settings.py`` can build
AUTH_PASSWORD_VALIDATORS without importing Django models (the validators are in ``passwords``).

- ``dengbao`` (等保 level 3, the default): ≥ 8 characters, 3 of the 4 character classes, the
  last 5 passwords not reused, changed every 90 days.
- ``asvs`` (OWASP ASVS 4.0 level 2, §2.1): ≥ 12 characters, no composition rules, refused if on
  the common/breached list, no periodic expiry.
"""

from __future__ import annotations

from typing import Any

_HERE = "grassroots.accounts.passwords."

PROFILES: dict[str, dict[str, int]] = {
    "dengbao": {"min_length": 8, "min_classes": 3, "history": 5, "max_age_days": 90},
    "asvs": {"min_length": 12, "min_classes": 0, "history": 0, "max_age_days": 0},
}


def validators_for(profile: str, *, blocklist_path: str = "") -> list[dict[str, Any]]:
    """The AUTH_PASSWORD_VALIDATORS of a profile (``blocklist_path``: an extra local list of refused passwords)."""
    try:
        rules = PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown password profile {profile!r}; expected one of {sorted(PROFILES)}") from None
    common: dict[str, Any] = {"NAME": _HERE + "CommonPasswordValidator"}
    if blocklist_path:
        common["OPTIONS"] = {"extra_list_path": blocklist_path}
    config: list[dict[str, Any]] = [
        {"NAME": _HERE + "MinimumLengthValidator", "OPTIONS": {"min_length": rules["min_length"]}},
        {"NAME": _HERE + "UserAttributeSimilarityValidator"},
        common,
    ]
    if rules["min_classes"]:
        # Composition rules: 等保 asks for them, ASVS 2.1.9 forbids them.
        config.append({"NAME": _HERE + "NumericPasswordValidator"})
        config.append({"NAME": _HERE + "CharacterClassValidator", "OPTIONS": {"min_classes": rules["min_classes"]}})
    if rules["history"]:
        config.append({"NAME": _HERE + "PasswordHistoryValidator", "OPTIONS": {"keep": rules["history"]}})
    # Always present: it records when the password changed, whatever the profile.
    config.append({"NAME": _HERE + "PasswordAgeValidator", "OPTIONS": {"max_age_days": rules["max_age_days"]}})
    return config
