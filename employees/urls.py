from shanqian.routing import api_path

from . import views

urlpatterns = [
    # --- resume ---
    api_path("employee", views.EmployeeView.as_view(), name="employee"),
]
