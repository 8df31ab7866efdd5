from django import forms
from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count

from .models import Company, Contract, WorkPosition
from .services import contract_pdf_check, contract_save_file


class WorkPositionInline(admin.TabularInline):
    model = WorkPosition
    fields = ("name", "status", "sort")
    extra = 1


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("company_name", "status", "sort", "position_count", "created_at")
    list_filter = ("status",)
    search_fields = ("company_name",)
    ordering = ("sort", "id")
    inlines = [WorkPositionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(position_count=Count("positions"))

    @admin.display(description="岗位数", ordering="position_count")
    def position_count(self, obj):
        return obj.position_count


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
            contract_pdf_check(file)
        return file


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    form = ContractAdminForm
    list_display = ("contract_name", "contract_body", "company", "sign_year", "status", "short_sha256", "updated_at")
    list_filter = ("status", "company")
    search_fields = ("contract_name", "contract_body", "company__company_name")
    list_select_related = ("company",)
    autocomplete_fields = ("company",)
    readonly_fields = ("sha256", "created_at", "updated_at")
    fields = (*ContractAdminForm.Meta.fields, "sha256", "created_at", "updated_at")

    @admin.display(description="文件 SHA-256")
    def short_sha256(self, obj):
        return f"{obj.sha256[:12]}…" if obj.sha256 else "-"

    def save_model(self, request, obj, form, change):
        if "file" in form.changed_data:
            uploaded = form.cleaned_data["file"]
            contract_save_file(contract=obj, file=uploaded, name=uploaded.name)
        else:
            obj.save()
