"""Forms of the hotspot and assessment pages (thin: the services validate again)."""

from __future__ import annotations

from django import forms

from grassroots.insights import hotspots_engine as engine


class HotspotRulesForm(forms.Form):
    window_days = forms.IntegerField(
        label="统计窗口(天)",
        min_value=1,
        max_value=730,
        initial=90,
        required=False,
        error_messages={
            "min_value": "统计窗口至少1天。",
            "max_value": "统计窗口最多730天。",
            "invalid": "请输入整数天数。",
        },
    )
    min_count = forms.IntegerField(
        label="最少件数",
        min_value=2,
        max_value=1000,
        initial=3,
        required=False,
        error_messages={
            "min_value": "最少件数至少为2。",
            "max_value": "最少件数最多为1000。",
            "invalid": "请输入整数。",
        },
    )
    radius_m = forms.IntegerField(
        label="同一地点半径(米)",
        min_value=10,
        max_value=2000,
        initial=100,
        required=False,
        error_messages={"min_value": "半径至少10米。", "max_value": "半径最多2000米。", "invalid": "请输入整数米数。"},
    )
    period_days = forms.IntegerField(
        label="上升比较周期(天)",
        min_value=7,
        max_value=183,
        initial=30,
        required=False,
        error_messages={
            "min_value": "比较周期至少7天。",
            "max_value": "比较周期最多183天。",
            "invalid": "请输入整数天数。",
        },
    )

    def rules(self) -> engine.Rules:
        """The engine's rules from the valid fields (defaults for anything empty or invalid)."""
        default = engine.Rules()
        data = self.cleaned_data if self.is_valid() else {}
        return engine.Rules(
            window_days=data.get("window_days") or default.window_days,
            min_count=data.get("min_count") or default.min_count,
            radius_m=float(data.get("radius_m") or default.radius_m),
            period_days=data.get("period_days") or default.period_days,
        )

    def query(self) -> str:
        r = self.rules()
        return (
            f"window_days={r.window_days}&min_count={r.min_count}&radius_m={r.radius_m:.0f}&period_days={r.period_days}"
        )


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="忽略理由",
        max_length=300,
        error_messages={"required": "请填写忽略理由。", "max_length": "忽略理由不能超过300字。"},
    )


WEIGHT_ERRORS = {
    "required": "请填写权重。",
    "invalid": "权重必须是整数。",
    "min_value": "权重不能小于0。",
    "max_value": "权重不能大于100。",
}


def _weight(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=100, error_messages=WEIGHT_ERRORS)


class WeightsForm(forms.Form):
    response = _weight("响应率")
    resolution = _weight("解决率")
    satisfaction = _weight("满意率")
    on_time = _weight("按时办结率")
    rating = _weight("社区评分")
    unit_service = _weight("党员履职（年度目标完成率）")
    unit_rating = _weight("社区评分")
