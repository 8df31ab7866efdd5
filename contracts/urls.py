from shanqian.routing import api_path

from . import views

urlpatterns = [
    api_path("companies", views.CompanyListView.as_view(), name="companies"),
    api_path("work_pos", views.WorkPosListView.as_view(), name="work-pos"),
]
