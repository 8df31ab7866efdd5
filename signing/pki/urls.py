from django.urls import path

from . import views

app_name = "pki"

urlpatterns = [
    path("root.crt", views.root_certificate, name="root-crt"),
    path("issuing.crt", views.issuing_certificate, name="issuing-crt"),
    path("issuing.crl", views.issuing_crl, name="issuing-crl"),
    path("root.crl", views.root_crl, name="root-crl"),
]
