from shanqian.routing import api_path

from . import views
from .ledger import views as ledger_views
from .notifications import views as notification_views
from .privacy import views as privacy_views

urlpatterns = [
    api_path("handlers", views.HandlerListView.as_view(), name="handlers"),
    # --- the resume and the application it opens ---
    api_path("employee", views.EmployeeView.as_view(), name="employee"),
    # --- em_status ---
    api_path("em_status", views.EmStatusView.as_view(), name="em-status"),
    # --- signing ---
    api_path("sign/contract", views.SignContractView.as_view(), name="sign-contract"),
    api_path("sign", views.SignView.as_view(), name="sign"),
    api_path("sign/document", views.SignedDocumentView.as_view(), name="sign-document"),
    api_path("sign/cancel", views.SignCancelView.as_view(), name="sign-cancel"),
    api_path("sign/history", views.SignHistoryView.as_view(), name="sign-history"),
    # --- the contract ledger (SPEC §12) ---
    api_path("contracts", ledger_views.ContractListView.as_view(), name="contracts"),
    api_path(r"contracts/(?P<contract_id>[0-9]{1,18})", ledger_views.ContractDetailView.as_view(), name="contract"),
    # --- notifications ---
    api_path("subscriptions", notification_views.SubscriptionsView.as_view(), name="subscriptions"),
    # --- the person's rights (SPEC §13) ---
    api_path("me/export", privacy_views.MeExportView.as_view(), name="me-export"),
    api_path("me/deletion", privacy_views.MeDeletionView.as_view(), name="me-deletion"),
]
