"""Where the commands write their results by default: `reports/out` of the checkout, or of the current
folder when the suite runs installed (a wheel: its own folder is site-packages, no place for results)."""
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


def out_dir():
    base = CHECKOUT if (CHECKOUT / "pyproject.toml").is_file() else Path.cwd()
    return base / "reports" / "out"
