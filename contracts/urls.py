from shanqian.routing import api_path  # noqa: F401

urlpatterns = []
