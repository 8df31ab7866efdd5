"""
The worker's contracts (SPEC §12): ``GET /api/contracts`` (newest first, paginated as SPEC §3 says)
and ``GET /api/contracts/{id}`` — only the logged-in user's own records (someone else's id is 404).
"""

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from shanqian.errors import NotFound
from shanqian.pagination import EnvelopePagination

from . import selectors
from .serializers import ContractSerializer

TAGS = ["劳动合同"]


class ContractListView(ListAPIView):
    serializer_class = ContractSerializer
    pagination_class = EnvelopePagination

    def get_queryset(self):
        return selectors.contracts_of_user(user=self.request.user)

    @extend_schema(
        operation_id="contracts_list",
        summary="我的劳动合同",
        description=(
            "当前用户的劳动合同（新的在前，分页：page、page_size/pageSize，默认 10，最大 100）："
            "状态、期限、岗位、用人单位、已签署文件和解除（终止）证明书的链接。"
        ),
        tags=TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ContractDetailView(APIView):
    @extend_schema(
        operation_id="contracts_retrieve",
        summary="劳动合同详情",
        description="当前用户的一份劳动合同；不存在或不属于当前用户为 404/40400。",
        responses=ContractSerializer,
        tags=TAGS,
    )
    def get(self, request, contract_id: str):
        contract = selectors.contracts_of_user(user=request.user).filter(pk=int(contract_id)).first()
        if contract is None:
            raise NotFound("劳动合同不存在")
        return Response(ContractSerializer(contract, context={"request": request}).data)
