"""Private media through signed links (``/files/<signed token>``)."""

urlpatterns = []
