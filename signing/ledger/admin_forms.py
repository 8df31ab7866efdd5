"""
The ledger's two moves in the back office: 续签 (``RenewForm``, 审核通过's form with the renewal's
start and the art. 14 confirmation) and 终止/解除 (``EndForm``). Shape and sanity only; the services
(``application_renew``, ``contract_end``) check everything again on the locked rows.
"""

import datetime

from django import forms

from shanqian.text import validate_text

from ..admin_forms import ApproveForm
from ..services.applications import NOTE_MAX_LENGTH
from .models import EndGround


class RenewForm(ApproveForm):
    """New terms for a renewal; a blank start is the day after the current term's end (per row)."""

    art14_acknowledged = forms.BooleanField(
        label="劳动者本人提出订立固定期限劳动合同",
        required=False,
        help_text="劳动合同法第十四条：已连续订立二次固定期限劳动合同，或连续工作满十年的，劳动者提出或者同意"
        "续订的，除劳动者提出订立固定期限劳动合同外，应当订立无固定期限劳动合同。适用时续签固定期限合同须勾选。",
    )

    def __init__(self, *args, company, records=(), art14="", **kwargs):
        super().__init__(*args, company=company, **kwargs)
        entry = self.fields["entry_date"]
        entry.label = "续签起始日期"
        entry.required = False
        entry.help_text = "留空：当前合同终止日的次日。两份合同的期限不能重叠。"
        if len(records) == 1:
            record = records[0]
            if record.end_date:
                entry.initial = record.end_date + datetime.timedelta(days=1)
            self.fields["salary"].initial = record.salary
            self.fields["work_location"].initial = record.work_location
            if record.application.contract_id:
                self.fields["contract"].initial = record.application.contract_id
        if art14:
            self.fields["art14_acknowledged"].help_text = f"⚠ {art14}。" + self.fields["art14_acknowledged"].help_text
        self.art14 = art14

    def clean_entry_date(self):
        # The renewal's own window (after the current term, within a year) is the service's rule.
        return self.cleaned_data.get("entry_date")


class EndForm(forms.Form):
    ground = forms.ChoiceField(
        label="终止/解除事由",
        choices=[("", "请选择"), *EndGround.choices],
        error_messages={"required": "请选择终止/解除事由。", "invalid_choice": "请选择终止/解除事由。"},
    )
    ended_on = forms.DateField(
        label="终止/解除日期",
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "请填写有效的日期（如 2027-06-30）。"},
        help_text="期满终止可留空（即合同终止日）。不能早于合同起始日，不能晚于合同终止日。",
    )
    note = forms.CharField(
        label="说明",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_text],
        error_messages={"max_length": f"说明不能超过 {NOTE_MAX_LENGTH} 个字符。"},
        help_text="记入台账；证明书依劳动合同法第五十条写明期限、岗位和工作年限，并发送给劳动者。",
    )
