"""
A test URLconf that mounts the verification page the way the SignApplication
admin will: prepended to a ModelAdmin's own URLs, on a site named ``admin``.
"""

from django.contrib import admin
from django.urls import path

from shanqian.admin_site import ShanqianAdminSite
from signing.admin_verify import verify_document_urls
from signing.models import SignApplication

site = ShanqianAdminSite(name="admin")


class SignApplicationAdmin(admin.ModelAdmin):
    def get_urls(self):
        return verify_document_urls(self.admin_site) + super().get_urls()


site.register(SignApplication, SignApplicationAdmin)

urlpatterns = [path("admin/", site.urls)]
