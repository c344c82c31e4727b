"""WeCom (企业微信) app and AI-bot callbacks: the pure callback codec in :mod:`.codec`."""
