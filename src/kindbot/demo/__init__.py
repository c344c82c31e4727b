"""The built-in demo: a fictional tea shop (``bundle.yaml``, ``faq.csv``) and the
credentials of its simulated WeChat Official Account.

The credentials below only ever talk to kindbot's own local WeChat simulator
(``kindbot.testing.wechat_api``); they are not, and must never be used as, real ones.
"""

DEMO_TENANT = "teashop"
OA_APP_ID = "wxdemo0000000001"
OA_APP_SECRET = "demo-only-app-secret-0000000000"
OA_TOKEN = "demotoken"
OA_AES_KEY = "kindbotDemoOnlyEncodingAESKey000000000000000"[:43]
OA_CHANNEL = "oa"
SIM_MOUNT = "/wechat-sim"


def oa_bundle(api_base: str) -> str:
    """A bundle adding the simulated Official Account channel to the demo shop."""
    return (
        "tenant: {slug: teashop, name: 山间茶舍, industry: retail, timezone: Asia/Shanghai,"
        " language: zh}\n"
        "channels:\n"
        f"  - {{id: {OA_CHANNEL}, type: wechat_oa, app_id: {OA_APP_ID},"
        f" app_secret: {OA_APP_SECRET}, token: {OA_TOKEN}, encoding_aes_key: {OA_AES_KEY},"
        f" mode: safe, api_base: '{api_base}'}}\n"
    )
