from shanqian.routing import api_path

from . import consent_views, views

urlpatterns = [
    # --- identity ---
    api_path("weixin/login", views.WeixinLoginView.as_view(), name="weixin-login"),
    api_path("weixin/logout", views.WeixinLogoutView.as_view(), name="weixin-logout"),
    api_path("captcha", views.CaptchaView.as_view(), name="captcha"),
    api_path("verifycode", views.VerifyCodeView.as_view(), name="verifycode"),
    api_path("image", views.ImageUploadView.as_view(), name="image"),
    # The resume (/api/employee) is routed by signing: submitting one opens an application.
    # --- real-name ---
    api_path("realname", views.RealnameView.as_view(), name="realname"),
    # --- personal-information consent (SPEC §13) ---
    api_path("consents", consent_views.ConsentsView.as_view(), name="consents"),
    api_path(r"consents/(?P<scope>[^/]+)", consent_views.ConsentWithdrawView.as_view(), name="consent-withdraw"),
]
