"""
The success half of the envelope (the error half is ``shanqian.exceptions``; the shape is ``shanqian.envelope``).

Views return plain data; this renderer wraps it as
``{"status": 0, "msg": "", "data": <data>, "error_code": 0}``.
"""

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer

from .envelope import envelope
from .errors import Code


class EnvelopeRenderer(JSONRenderer):
    ensure_ascii = False
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return super().render(envelope(Code.OK, "", data), accepted_media_type, renderer_context)


class LenientContentNegotiation(DefaultContentNegotiation):
    """Mini-program clients send odd ``Accept`` headers; answer JSON instead of 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            renderer = renderers[0]
            return renderer, renderer.media_type
