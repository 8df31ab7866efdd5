from shanqian.routing import api_path

from . import views

urlpatterns = [
    api_path(r"dict/(?P<dict_item>[^/]+)", views.DictView.as_view(), name="dict"),
    api_path("regions", views.RegionListView.as_view(), name="regions"),
]
