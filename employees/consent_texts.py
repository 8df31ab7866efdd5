"""
Default texts of the two consent scopes (SPEC §13), used for a platform that has none yet (the data
migration that introduced consent, and ``seed_demo``). They describe what this system actually
collects and keeps; an operator adapts them in the back office (个人信息处理规则) — the company's
name and contact in particular — and publishes a new version.
"""

from .models import ConsentScope

DEFAULT_VERSION = "1.0"

PRIVACY_POLICY_TITLE = "个人信息处理规则"
PRIVACY_POLICY_BODY = """\
{platform}（以下简称“我们”）依据《中华人民共和国个人信息保护法》处理您的个人信息。请您在使用入职登记与电子签约服务前仔细阅读本规则。

一、我们收集哪些信息、用于什么目的
1. 微信登录标识（OpenID）：用于识别您的账号。
2. 简历信息：姓名、手机号、民族、婚姻状况、政治面貌、户口类型与户籍地址、现居住地址、紧急联系人姓名与电话、教育经历、工作经历，以及您选择的用人单位、岗位和人事专员：用于办理入职和订立劳动合同。
3. 手机号与短信验证码：用于确认是您本人提交简历和签署合同。
4. 签署记录：签署时间、IP 地址、设备信息（User-Agent）、您授权提供的位置信息、手写签名图片：作为电子签名的证据。
身份证号码和身份证照片属于敏感个人信息，我们会另行取得您的单独同意（见《敏感个人信息处理规则》）。

二、我们如何保存和保护
身份证号码和身份证照片加密存储；后台工作人员默认只能看到脱敏后的身份证号和手机号，查看完整信息会留下访问记录。
未签约的申请（已驳回或已取消）在结束后 {retention_days} 天内删除简历、上传的照片和实名认证资料；已签署的劳动合同及其证据依照《劳动合同法》第五十条的规定，在合同解除或终止后至少保存 {contract_years} 年。

三、我们向谁提供
您的简历提供给您选择的用人单位及其人事专员，用于审核和签约；实名认证可能需要提供给身份核验服务机构。除法律法规规定外，不会提供给其他任何人。

四、您的权利
您可以在小程序中查阅、复制（导出）您的个人信息，更正简历，撤回同意，并申请删除。撤回同意不影响撤回前基于同意已进行的处理；撤回后我们将停止相关处理，您可能无法继续办理入职签约。删除申请受法律规定的保存期限限制（例如已签署的劳动合同），我们会告知处理结果。

五、联系我们
如有疑问或投诉，请联系您的人事专员或用人单位。
"""

SENSITIVE_PI_TITLE = "敏感个人信息处理规则"
SENSITIVE_PI_BODY = """\
依据《中华人民共和国个人信息保护法》第二十九条，处理敏感个人信息应当取得您的单独同意。

我们将处理的敏感个人信息：身份证号码、身份证正反面照片，以及（如用人单位启用）人脸识别信息。

处理目的和必要性：核验您的真实身份（实名认证），在劳动合同中载明劳动者的身份证号码（《劳动合同法》第十七条），并作为电子签名的身份证据。

对您的影响：不同意将无法上传身份证照片、提交简历和完成实名认证，也就无法在线签订劳动合同。

保护措施：身份证号码和身份证照片加密存储，只有在签署页面和劳动合同正文中出现完整号码；后台默认脱敏显示，查看完整信息会留下访问记录；证书和日志中不记录完整号码。

您可以随时在小程序中撤回本同意；撤回后我们将停止处理上述信息。
"""

DEFAULTS = {
    ConsentScope.PRIVACY_POLICY: (PRIVACY_POLICY_TITLE, PRIVACY_POLICY_BODY),
    ConsentScope.SENSITIVE_PI: (SENSITIVE_PI_TITLE, SENSITIVE_PI_BODY),
}


def default_policy(scope: str, *, platform_name: str, retention_days: int, contract_years: int) -> tuple[str, str]:
    """(title, body) of the default text of ``scope`` for a platform."""
    title, body = DEFAULTS[ConsentScope(scope)]
    return title, body.format(platform=platform_name, retention_days=retention_days, contract_years=contract_years)
