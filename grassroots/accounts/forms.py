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
