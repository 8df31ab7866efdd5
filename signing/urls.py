from shanqian.routing import api_path

from . import views

urlpatterns = [
    api_path("handlers", views.HandlerListView.as_view(), name="handlers"),
]
