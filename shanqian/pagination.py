"""
Pagination for our own list endpoints (SPEC §3): ``?page=`` and ``?page_size=``
(alias ``pageSize``), default 10, at most 100, answered as
``{"list", "page", "pageSize", "total" (pages), "count" (items)}``.
"""

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class EnvelopePagination(PageNumberPagination):
    page_size = 10
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        if "page_size" not in request.query_params and "pageSize" in request.query_params:
            self.page_size_query_param = "pageSize"
        return super().get_page_size(request)

    def get_paginated_response(self, data):
        return Response(
            {
                "list": data,
                "page": self.page.number,
                "pageSize": self.page.paginator.per_page,
                "total": self.page.paginator.num_pages,
                "count": self.page.paginator.count,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["list", "page", "pageSize", "total", "count"],
            "properties": {
                "list": schema,
                "page": {"type": "integer", "example": 1},
                "pageSize": {"type": "integer", "example": 10},
                "total": {"type": "integer", "description": "总页数", "example": 3},
                "count": {"type": "integer", "description": "总条数", "example": 23},
            },
        }
