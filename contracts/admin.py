"""
秒云达 1.0 后台: employers (用人单位, with their art. 17 particulars), positions, contract templates,
company seals (电子印章) and seal authorisations (印章授权).

Seals and authorisations are managed by staff holding their model permissions (add/change); the
人事专员 group has ``view`` only, so handlers see them but change nothing. Files go through
``contracts.services`` (checked, stored, fingerprinted); nobody edits an authorisation after it
is recorded — it is revoked (``撤销``) and a new one recorded.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from shanqian.admin_reviews import ReviewAction, ReviewActionsMixin
from shanqian.admin_tools import Photo, photos_html, status_badge
from shanqian.errors import InvalidInput
from shanqian.storage import signed_file_url
from shanqian.text import validate_text

from .credit_code import credit_code_problem, normalise
from .models import Company, CompanySeal, Contract, EnabledStatus, Placement, SealAuthorisation, WorkPosition
from .placements import (
    MARKS,
    PAGE_IMAGE_SCALE,
    REQUIRED_GROUPS,
    VOCABULARY,
    boxes_from_json,
    page_png,
    page_sizes,
    placements_missing,
)
from .seals import seal_image_clean
from .services import (
    REVOKE_REASON_MAX_LENGTH,
    authorisation_letter_check,
    company_seal_generate,
    company_seal_save,
    contract_placements_missing,
    contract_placements_save,
    contract_save_file,
    contract_template_bytes,
    enable_refusal,
    seal_authorisation_create,
    seal_authorisation_problems,
    seal_authorisation_revoke,
    template_upload_check,
)


def _field_error(check, *args):
    """Run a service's check; its domain error becomes the form field's ``ValidationError``."""
    try:
        return check(*args)
    except InvalidInput as exc:
        raise ValidationError(exc.msg, code="invalid") from None


class WorkPositionInline(admin.TabularInline):
    model = WorkPosition
    fields = ("name", "status", "sort")
    extra = 1


class CompanyAdminForm(forms.ModelForm):
    # Longer than 18 on the form: pasted codes with blanks are normalised in clean_credit_code.
    credit_code = forms.CharField(label="统一社会信用代码", max_length=32, required=False)
    override_check = forms.BooleanField(
        label="保存（校验位不符）",
        required=False,
        help_text="仅用于少数早期试点代码（如福建、厦门）：核实营业执照后勾选，"
        "按原样保存不符合 GB 32100 校验位的代码。",
    )

    class Meta:
        model = Company
        fields = ("company_name", "credit_code", "company_address", "legal_representative", "status", "sort")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.credit_code_unchecked:
            self.fields["override_check"].initial = True

    def clean_credit_code(self):
        code = normalise(self.cleaned_data.get("credit_code", ""))
        if not code:
            return code
        kind, message = credit_code_problem(code)
        if kind == "shape":
            raise ValidationError(message, code="credit_code_shape")
        self.credit_code_check_failed = kind == "check"
        return code

    def clean(self):
        data = super().clean()
        if getattr(self, "credit_code_check_failed", False) and not data.get("override_check"):
            _, message = credit_code_problem(data.get("credit_code", ""))
            self.add_error(
                "credit_code",
                ValidationError(
                    message + "如确为早期试点代码，请核实营业执照后勾选「保存（校验位不符）」再保存。",
                    code="credit_code_check",
                ),
            )
        return data

    def save(self, commit=True):
        self.instance.credit_code_unchecked = bool(getattr(self, "credit_code_check_failed", False))
        return super().save(commit=commit)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    form = CompanyAdminForm
    list_display = (
        "company_name",
        "credit_code",
        "legal_representative",
        "status",
        "sort",
        "position_count",
        "seal_state",
        "authorisation_state",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("company_name", "credit_code")
    ordering = ("sort", "id")
    inlines = [WorkPositionInline]
    actions = ["generate_seals"]
    fieldsets = (
        (None, {"fields": ("company_name", "status", "sort")}),
        (
            "用人单位资料（劳动合同法第十七条，审核通过前须填写完整）",
            {"fields": ("credit_code", "override_check", "company_address", "legal_representative")},
        ),
    )

    def get_queryset(self, request):
        in_force = SealAuthorisation.objects.filter(company=OuterRef("pk")).valid_at(timezone.now())
        return (
            super()
            .get_queryset(request)
            .select_related("seal")
            .annotate(position_count=Count("positions"), authorised=Exists(in_force))
        )

    @admin.display(description="岗位数", ordering="position_count")
    def position_count(self, obj):
        return obj.position_count

    @admin.display(description="电子印章")
    def seal_state(self, obj):
        seal = getattr(obj, "seal", None)
        if seal is None:
            return status_badge("未设置", tone="refused")
        return format_html('<img src="{}" alt="印章" style="height:32px">', signed_file_url(seal.image.name))

    @admin.display(description="印章授权", boolean=True, ordering="authorised")
    def authorisation_state(self, obj):
        return obj.authorised

    @admin.action(description="生成标准合同专用章（圆形红章）", permissions=["generate_seal"])
    def generate_seals(self, request, queryset):
        done = []
        for company in queryset:
            company_seal_generate(company=company, staff=request.user)
            done.append(str(company))
        self.message_user(request, f"已生成 {len(done)} 枚印章：{'、'.join(done[:10])}。", messages.SUCCESS)

    def has_generate_seal_permission(self, request):
        return request.user.has_perm("contracts.add_companyseal") and request.user.has_perm(
            "contracts.change_companyseal"
        )


@admin.register(WorkPosition)
class WorkPositionAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "status", "sort")
    list_filter = ("status", "company")
    search_fields = ("name", "company__company_name")
    list_select_related = ("company",)
    autocomplete_fields = ("company",)


class ContractAdminForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = ("contract_name", "contract_body", "company", "sign_year", "file", "status")
        widgets = {"file": forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"})}

    def clean_file(self):
        file = self.cleaned_data.get("file")
        if isinstance(file, UploadedFile):
            # The PDF and the boxes found in it, refused here (a form error) before anything is stored.
            _field_error(template_upload_check, file)
        return file

    def clean(self):
        data = super().clean()
        # The enable rule (SPEC §9). A new file's placements are detected on save: an incomplete
        # template is then saved disabled, and the page says what is missing (ContractAdmin.save_model).
        if data.get("status") == EnabledStatus.ENABLED and not isinstance(data.get("file"), UploadedFile):
            missing = (
                contract_placements_missing(contract_id=self.instance.pk)
                if self.instance.pk
                else placements_missing(())
            )
            if missing:
                self.add_error("status", ValidationError(enable_refusal(missing), code="placements_missing"))
        return data


class KeywordPlacementForm(forms.Form):
    """按关键字添加 on the placement page: a box at the text, offset from its right edge (points)."""

    kw_key = forms.ChoiceField(label="字段", choices=list(VOCABULARY.items()))
    kw_text = forms.CharField(label="关键字", max_length=32, validators=[validate_text])
    kw_dx = forms.FloatField(label="水平偏移（pt）", initial=14, min_value=-600, max_value=600)
    kw_dy = forms.FloatField(label="垂直偏移（pt）", initial=0, min_value=-600, max_value=600)
    kw_width = forms.FloatField(label="宽（pt）", initial=160, min_value=4, max_value=2000)
    kw_height = forms.FloatField(label="高（pt）", initial=18, min_value=4, max_value=2000)

    def keyword(self) -> dict:
        data = self.cleaned_data
        return {
            "key": data["kw_key"],
            "text": data["kw_text"],
            "dx": data["kw_dx"],
            "dy": data["kw_dy"],
            "width": data["kw_width"],
            "height": data["kw_height"],
        }


def _messages(exc: InvalidInput) -> list[str]:
    """Every Chinese message of a service's refusal (field errors first, else its message)."""
    errors = (exc.data or {}).get("errors") or {}
    return [message for field_errors in errors.values() for message in field_errors] or [exc.msg]


def _placement_summary(contract_id: int) -> tuple[list[dict], list[str]]:
    rows = list(Placement.objects.filter(contract_id=contract_id).values("key", "page", "source"))
    return rows, placements_missing(row["key"] for row in rows)


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    form = ContractAdminForm
    list_display = (
        "contract_name",
        "contract_body",
        "company",
        "sign_year",
        "status",
        "placement_count",
        "short_sha256",
        "updated_at",
    )
    list_filter = ("status", "company")
    search_fields = ("contract_name", "contract_body", "company__company_name")
    list_select_related = ("company",)
    autocomplete_fields = ("company",)
    readonly_fields = ("placements_state", "sha256", "created_at", "updated_at")
    fields = (*ContractAdminForm.Meta.fields, "placements_state", "sha256", "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(placement_total=Count("placements"))

    @admin.display(description="文件 SHA-256")
    def short_sha256(self, obj):
        return f"{obj.sha256[:12]}…" if obj.sha256 else "-"

    @admin.display(description="字段位置数", ordering="placement_total")
    def placement_count(self, obj):
        return obj.placement_total

    @admin.display(description="字段位置")
    def placements_state(self, obj):
        if obj is None or not obj.pk:
            return "上传合同文件后自动识别（表单域、关键字），再在「字段位置」页面调整。"
        rows, missing = _placement_summary(obj.pk)
        state = (
            format_html('<span class="sq-placements-missing">缺少：{}</span>', "、".join(missing))
            if missing
            else format_html('<span class="sq-placements-complete">{}</span>', "必需字段已全部放置，可以启用")
        )
        url = reverse("admin:contracts_contract_placements", args=[obj.pk])
        return format_html(
            '共 {} 个字段位置；{} <a class="button" id="sq-placements-link" href="{}">打开字段位置页面</a>',
            len(rows),
            state,
            url,
        )

    def save_model(self, request, obj, form, change):
        if "file" in form.changed_data:
            uploaded = form.cleaned_data["file"]
            asked_enabled = obj.status == EnabledStatus.ENABLED
            contract_save_file(contract=obj, file=uploaded, name=uploaded.name)
            self._upload_messages(request, obj, asked_enabled=asked_enabled)
        else:
            obj.save()

    def _upload_messages(self, request, obj, *, asked_enabled: bool) -> None:
        rows, missing = _placement_summary(obj.pk)
        by_source: dict[str, list[str]] = {}
        for row in rows:
            names = by_source.setdefault(row["source"], [])
            label = VOCABULARY.get(row["key"], row["key"])
            if label not in names:
                names.append(label)
        found = "；".join(
            f"{Placement.Source(source).label} {sum(1 for r in rows if r['source'] == source)} 个：{'、'.join(names)}"
            for source, names in by_source.items()
        )
        self.message_user(
            request,
            f"已从合同文件识别 {len(rows)} 个字段位置" + (f"（{found}）。" if rows else "：没有识别到表单域或关键字。"),
            messages.INFO,
        )
        if missing:
            self.message_user(
                request,
                f"仍缺少必需的字段位置：{'、'.join(missing)}。"
                + ("模板已保存为「停用」，" if asked_enabled else "")
                + "请在「字段位置」页面放置后再启用。",
                messages.WARNING,
            )

    # --- the placement page (SPEC §9) ----------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/placements/", view(self.placements_view), name="contracts_contract_placements"),
            path(
                "<int:object_id>/placements/page/<int:page>.png",
                view(self.page_image_view),
                name="contracts_contract_page_image",
            ),
            *super().get_urls(),
        ]

    def _placement_contract(self, request, object_id):
        contract = Contract.objects.select_related("company").filter(pk=object_id).first()
        if contract is None:
            raise Http404("合同模板不存在")
        if not self.has_view_or_change_permission(request, contract):
            raise PermissionDenied
        return contract

    def page_image_view(self, request, object_id, page):
        contract = self._placement_contract(request, object_id)
        try:
            image = page_png(contract_template_bytes(contract), page)
        except (InvalidInput, IndexError) as exc:
            raise Http404("没有这一页") from exc
        response = HttpResponse(image, content_type="image/png")
        response["Cache-Control"] = "private, max-age=300"
        return response

    def placements_view(self, request, object_id):
        contract = self._placement_contract(request, object_id)
        editable = self.has_change_permission(request, contract)
        change_url = reverse("admin:contracts_contract_change", args=[contract.pk])
        try:
            sizes = page_sizes(contract_template_bytes(contract))
        except InvalidInput as exc:
            self.message_user(request, exc.msg, messages.ERROR)
            return HttpResponseRedirect(change_url)
        errors: list[str] = []
        keyword_form = KeywordPlacementForm(prefix=None)
        boxes = None
        if request.method == "POST":
            if not editable:
                raise PermissionDenied
            try:
                items = json.loads(request.POST.get("placements") or "null")
            except ValueError:
                items = None
            boxes, errors = boxes_from_json(items)
            keyword = None
            if "_keyword" in request.POST:
                keyword_form = KeywordPlacementForm(request.POST)
                if keyword_form.is_valid():
                    keyword = keyword_form.keyword()
                else:
                    errors += [
                        f"{keyword_form.fields[name].label}：{message}"
                        for name, field_errors in keyword_form.errors.items()
                        for message in field_errors
                    ]
            if not errors:
                try:
                    saved = contract_placements_save(contract=contract, boxes=boxes, keyword=keyword)
                except InvalidInput as exc:
                    errors = _messages(exc)
                else:
                    self.message_user(request, f"已保存 {len(saved.placements)} 个字段位置。", messages.SUCCESS)
                    if saved.missing:
                        self.message_user(
                            request,
                            f"仍缺少必需的字段位置：{'、'.join(saved.missing)}。"
                            + ("模板已停用，放置完整后才能重新启用。" if saved.disabled else "放置完整后才能启用。"),
                            messages.WARNING,
                        )
                    return HttpResponseRedirect(request.path)
        if boxes is None:
            rows = list(
                Placement.objects.filter(contract=contract).values(
                    "key", "page", "x", "y", "width", "height", "source", "anchor"
                )
            )
        else:  # the refused submission, shown again so nothing the staff drew is lost
            rows = [
                {
                    "key": b.key,
                    "page": b.page,
                    "x": b.x,
                    "y": b.y,
                    "width": b.width,
                    "height": b.height,
                    "source": b.source,
                    "anchor": b.anchor,
                }
                for b in boxes
            ]
        scale = PAGE_IMAGE_SCALE
        pages = [
            {
                "number": number,
                "width": width,
                "height": height,
                "px_width": round(width * scale),
                "px_height": round(height * scale),
                "url": reverse("admin:contracts_contract_page_image", args=[contract.pk, number]),
            }
            for number, (width, height) in enumerate(sizes, start=1)
        ]
        data = {
            "editable": editable,
            "scale": scale,
            "pages": [{"number": p["number"], "width": p["width"], "height": p["height"]} for p in pages],
            "placements": rows,
            "vocabulary": VOCABULARY,
            "marks": sorted(MARKS),
            "required": [list(group) for group in REQUIRED_GROUPS],
        }
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"字段位置：{contract}",
            "contract": contract,
            "original": contract,
            "editable": editable,
            "pages": pages,
            "rows": [{**row, "label": VOCABULARY.get(row["key"], row["key"])} for row in rows],
            "placement_data": data,
            "errors": errors,
            "missing": placements_missing(row["key"] for row in rows),
            "vocabulary": list(VOCABULARY.items()),
            "keyword_form": keyword_form,
            "change_url": change_url,
            "preview_url": reverse("admin:signing_contract_preview", args=[contract.pk]),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/contracts/contract/placements.html", context)


# --- company seals ------------------------------------------------------------------------------------


class CompanySealAdminForm(forms.ModelForm):
    upload = forms.FileField(
        label="上传印章图片",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png"}),
        help_text="带透明背景的 PNG（100–2000 像素见方，不超过 2 MB）。",
    )
    generate = forms.BooleanField(
        label="按单位名称生成标准合同专用章",
        required=False,
        help_text="圆形红章：上弧单位名称，中间五角星，下方「合同专用章」。",
    )

    class Meta:
        model = CompanySeal
        fields = ("company",)

    def clean(self):
        data = super().clean()
        upload, generate = data.get("upload"), data.get("generate")
        if bool(upload) == bool(generate):
            raise ValidationError("请上传印章图片，或勾选「按单位名称生成」（二选一）。", code="seal_source")
        if upload:
            try:
                seal_image_clean(upload.read())
            except InvalidInput as exc:
                self.add_error("upload", exc.msg)
            upload.seek(0)
        return data


@admin.register(CompanySeal)
class CompanySealAdmin(admin.ModelAdmin):
    form = CompanySealAdminForm
    list_display = ("company", "seal_image", "source", "size", "created_by", "updated_at")
    list_filter = ("source",)
    search_fields = ("company__company_name",)
    list_select_related = ("company", "created_by")
    autocomplete_fields = ("company",)
    readonly_fields = ("seal_image", "source", "size", "sha256", "created_by", "created_at", "updated_at")

    def get_fields(self, request, obj=None):
        shown = ("seal_image", "source", "size", "sha256", "created_by", "updated_at")
        if obj is None:
            return ("company", "upload", "generate")
        if self.has_change_permission(request, obj):
            return (*shown, "upload", "generate")
        return shown

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "company") if obj is not None else self.readonly_fields

    @admin.display(description="印章")
    def seal_image(self, obj):
        if not obj.image:
            return "-"
        return photos_html([Photo(str(obj.company), signed_file_url(obj.image.name))], thumbnails=True)

    @admin.display(description="尺寸")
    def size(self, obj):
        return f"{obj.width}×{obj.height}" if obj.width else "-"

    def save_model(self, request, obj, form, change):
        company = obj.company if change else form.cleaned_data["company"]
        if form.cleaned_data.get("generate"):
            saved = company_seal_generate(company=company, staff=request.user)
        else:
            saved = company_seal_save(company=company, data=form.cleaned_data["upload"].read(), staff=request.user)
        obj.pk, obj.image = saved.pk, saved.image

    def save_related(self, request, form, formsets, change):
        return None


# --- seal authorisations ------------------------------------------------------------------------------


class SealAuthorisationAdminForm(forms.ModelForm):
    class Meta:
        model = SealAuthorisation
        fields = ("company", "authoriser", "valid_from", "valid_until", "letter")
        help_texts = {"valid_until": "授权在该时间失效（不含）。"}

    def clean_letter(self):
        letter = self.cleaned_data.get("letter")
        if isinstance(letter, UploadedFile):
            _field_error(authorisation_letter_check, letter)
        return letter

    def clean(self):
        data = super().clean()
        # The service's rules, shown on the form before anything is stored.
        errors = seal_authorisation_problems(
            authoriser=data.get("authoriser", ""),
            valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"),
        )
        for name, field_errors in errors.items():
            if name not in self.errors:
                for message in field_errors:
                    self.add_error(name, message)
        return data


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="撤销原因",
        max_length=REVOKE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=True,
        validators=[validate_text],
    )


def _revoke(authorisation, *, staff, data, client):
    return seal_authorisation_revoke(authorisation=authorisation, staff=staff, reason=data["reason"])


class InForceFilter(admin.SimpleListFilter):
    title = "状态"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("valid", "有效"), ("revoked", "已撤销"), ("expired", "已过期"), ("pending", "未生效")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "valid":
            return queryset.valid_at(now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(Q(valid_until__lte=now), revoked_at__isnull=True)
        if self.value() == "pending":
            return queryset.filter(valid_from__gt=now, revoked_at__isnull=True)
        return queryset


@admin.register(SealAuthorisation)
class SealAuthorisationAdmin(ReviewActionsMixin, admin.ModelAdmin):
    form = SealAuthorisationAdminForm
    list_display = ("id", "company", "authoriser", "valid_from", "valid_until", "state", "created_by", "revoked_at")
    list_filter = (InForceFilter, "company")
    search_fields = ("company__company_name", "authoriser")
    list_select_related = ("company", "created_by")
    autocomplete_fields = ("company",)
    review_actions = {
        "revoke": ReviewAction(
            name="revoke",
            label="撤销授权",
            form_class=RevokeForm,
            perform=_revoke,
            submit_label="确认撤销",
            permission="change",
            tone="refused",
        )
    }
    review_columns = ("印章授权", "状态")

    def review_row(self, request, obj):
        return (obj.label, self._state_label(obj))

    def review_blocked(self, obj, action):
        return "该授权已撤销" if obj.revoked_at is not None else ""

    def get_fields(self, request, obj=None):
        if obj is None:
            return SealAuthorisationAdminForm.Meta.fields
        return (
            "company",
            "authoriser",
            "valid_from",
            "valid_until",
            "letter_link",
            "letter_sha256",
            "state",
            "created_by",
            "created_at",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
        )

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # an authorisation used in signed contracts is evidence: revoke it instead

    @staticmethod
    def _state_label(obj) -> str:
        now = timezone.now()
        if obj.revoked_at is not None:
            return "已撤销"
        if now < obj.valid_from:
            return "未生效"
        if now >= obj.valid_until:
            return "已过期"
        return "有效"

    @admin.display(description="状态")
    def state(self, obj):
        label = self._state_label(obj)
        return status_badge(label, tone="done" if label == "有效" else "refused")

    @admin.display(description="授权书")
    def letter_link(self, obj):
        if not obj.letter:
            return "未上传"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">查看授权书</a>', signed_file_url(obj.letter.name)
        )

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        saved = seal_authorisation_create(
            company=data["company"],
            authoriser=data["authoriser"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            letter=data.get("letter") or None,
            staff=request.user,
        )
        obj.pk = saved.pk
