"""The browser tests' served demo site and Chromium, for the sign-in pages."""

from tests.web.conftest import browser, site, visitors

__all__ = ["browser", "site", "visitors"]
