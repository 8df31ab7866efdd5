from shanqian.routing import api_path

from . import views

urlpatterns = [
    api_path("handlers", views.HandlerListView.as_view(), name="handlers"),
    # --- em_status ---
    api_path("em_status", views.EmStatusView.as_view(), name="em-status"),
]
