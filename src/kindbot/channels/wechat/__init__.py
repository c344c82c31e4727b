"""Wire-format core shared by the WeChat Official Account and WeCom channels."""
