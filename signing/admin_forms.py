"""
The forms of the back office's review actions. They check shape and sanity so a
handler sees a form error before any row is touched; the services re-check
everything on the locked row (contract of the company and enabled, entry-date
window, salary, reason length) and stay the authority.
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from contracts.models import Contract, EnabledStatus
from contracts.terms import PROBATION_MAX_MONTHS, WORK_LOCATION_MAX_LENGTH, TermType, WorkingHours, validate_terms
from shanqian.text import validate_text

from .services.applications import NOTE_MAX_LENGTH, REASON_MAX_LENGTH, clean_entry_date, clean_salary

# A typo guard, not a business rule: a monthly wage above this is a slip of the keyboard.
SALARY_SANE_MAX = Decimal("1000000.00")


class ApproveForm(forms.Form):
    contract = forms.ModelChoiceField(
        label="合同模板",
        queryset=Contract.objects.none(),
        empty_label="请选择合同模板",
        error_messages={
            "required": "请选择合同模板。",
            "invalid_choice": "请选择该用人单位启用中的合同模板。",
        },
    )
    entry_date = forms.DateField(
        label="入职日期",
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "请填写入职日期。", "invalid": "请填写有效的入职日期（如 2025-03-01）。"},
        help_text="最早 30 天前，最晚一年以后。",
    )
    salary = forms.DecimalField(
        label="薪资（元）",
        max_digits=15,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01"}),
        error_messages={
            "required": "请填写薪资。",
            "invalid": "薪资应为数字。",
            "max_digits": "薪资数字过长。",
            "max_decimal_places": "薪资最多保留两位小数。",
            "max_whole_digits": "薪资整数部分过长。",
        },
        help_text="大于 0，最多两位小数。",
    )

    term_type = forms.ChoiceField(
        label="合同期限类型",
        choices=[("", "按合同模板（年限为 0 即无固定期限）"), *TermType.choices],
        required=False,
    )
    end_date = forms.DateField(
        label="合同终止日期",
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "请填写有效的合同终止日期（如 2028-02-29）。"},
        help_text="固定期限留空：入职日期起按合同模板年限计算（起始日 + 年限 − 1 天）；无固定期限留空；"
        "以完成一定工作任务为期限：预计完成日期，可留空。",
    )
    probation_months = forms.IntegerField(
        label="试用期（月）",
        min_value=0,
        max_value=PROBATION_MAX_MONTHS,
        initial=0,
        required=False,
        error_messages={
            "invalid": "试用期应为 0 到 6 的整数（月）。",
            "min_value": "试用期应为 0 到 6 的整数（月）。",
            "max_value": "试用期应为 0 到 6 的整数（月）。",
        },
        help_text="劳动合同法第十九条：期限不满三个月或以完成一定工作任务为期限的不得约定；"
        "三个月以上不满一年不超过一个月；一年以上不满三年不超过二个月；三年以上或无固定期限不超过六个月。",
    )
    work_location = forms.CharField(
        label="工作地点",
        max_length=WORK_LOCATION_MAX_LENGTH,
        required=False,
        validators=[validate_text],
        error_messages={"max_length": f"工作地点不能超过 {WORK_LOCATION_MAX_LENGTH} 个字符。"},
    )
    working_hours = forms.ChoiceField(
        label="工时制度", choices=WorkingHours.choices, initial=WorkingHours.STANDARD, required=False
    )

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        contracts = Contract.objects.filter(company=company, status=EnabledStatus.ENABLED).order_by("id")
        self.fields["contract"].queryset = contracts
        self.fields["contract"].help_text = f"只列出「{company}」启用中的合同模板。"
        address = getattr(company, "company_address", "")
        self.fields["work_location"].help_text = (
            f"留空即用人单位住所：{address}" if address else "用人单位未登记住所，请填写。"
        )
        self.company = company

    def clean_entry_date(self):
        value = self.cleaned_data["entry_date"]
        error = clean_entry_date(value)
        if error:
            raise ValidationError(error, code="entry_date")
        return value

    def clean_salary(self):
        value, error = clean_salary(self.cleaned_data["salary"])
        if error:
            raise ValidationError(error, code="salary")
        if value > SALARY_SANE_MAX:
            raise ValidationError(f"薪资超出合理范围（不超过 {SALARY_SANE_MAX:,} 元），请核对。", code="salary_max")
        return value

    def clean(self):
        data = super().clean()
        contract, entry_date = data.get("contract"), data.get("entry_date")
        if (
            contract is None
            or entry_date is None
            or any(name in self.errors for name in ("term_type", "end_date", "probation_months", "work_location"))
        ):
            return data
        # The same rules the service applies per row (art. 19 against the term), shown before any row moves.
        _, errors = validate_terms(
            entry_date=entry_date,
            sign_year=contract.sign_year,
            term_type=data.get("term_type"),
            end_date=data.get("end_date"),
            probation_months=data.get("probation_months"),
            working_hours=data.get("working_hours"),
            work_location=data.get("work_location"),
            default_work_location=getattr(self.company, "company_address", ""),
        )
        for name, field_errors in errors.items():
            for message in field_errors:
                self.add_error(name if name in self.fields else None, message)
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="驳回原因",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_text],
        error_messages={"required": "请填写驳回原因。", "max_length": f"驳回原因不能超过 {REASON_MAX_LENGTH} 个字符。"},
        help_text="员工会在小程序首页看到这段原因，请写清楚需要如何修改。",
    )


class CancelForm(forms.Form):
    note = forms.CharField(
        label="取消原因",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[validate_text],
        error_messages={"max_length": f"取消原因不能超过 {NOTE_MAX_LENGTH} 个字符。"},
        help_text="可选，记入审计记录。",
    )


class SignOfflineForm(forms.Form):
    note = forms.CharField(
        label="线下签约说明",
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_text],
        error_messages={
            "required": "请填写线下签约说明。",
            "max_length": f"线下签约说明不能超过 {NOTE_MAX_LENGTH} 个字符。",
        },
        help_text="何时、何地、以何种方式签署了纸质合同（如合同编号），记入审计记录。",
    )
