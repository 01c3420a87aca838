"""Where headless Chromium and its driver are installed (apt-get install chromium chromium-driver);
the `chromium` fixture (browser/conftest.py) drives them."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
