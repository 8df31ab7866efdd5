"""Mini-program API views of the signing app. Views are thin: parse → service/selector → serialize."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .serializers import EmStatusSerializer

# --- em_status --------------------------------------------------------------------------------------


class EmStatusView(APIView):
    """``GET /api/em_status``: where the user's latest application stands (seed §3.1.2)."""

    @extend_schema(operation_id="em_status_retrieve", summary="首页状态", responses={200: EmStatusSerializer})
    def get(self, request):
        return Response(EmStatusSerializer(selectors.em_status(user=request.user)).data)
