from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误。连续失败5次，该账号将被锁定30分钟。",
        "inactive": "该账号已停用，请联系管理员。",
    }

    username = forms.CharField(
        label="用户名", max_length=150, widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    password = forms.CharField(
        label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label="验证码",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"}
        ),
        error_messages={"required": "请输入验证码。"},
    )


class TwoFactorDisableForm(forms.Form):
    password = forms.CharField(
        label="登录密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "请输入登录密码。"},
    )
    code = forms.CharField(
        label="验证码或恢复码",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
        error_messages={"required": "请输入验证码。"},
    )


class PasswordChangeForm(forms.Form):
    """Old password and the new one twice; the policy itself is checked by ``passwords.password_change``."""

    old_password = forms.CharField(
        label="原密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": "请输入原密码。"},
    )
    new_password1 = forms.CharField(
        label="新密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "请输入新密码。"},
    )
    new_password2 = forms.CharField(
        label="再次输入新密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "请再次输入新密码。"},
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        first, second = data.get("new_password1"), data.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", "两次输入的新密码不一致。")
        return data
