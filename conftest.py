"""Root conftest: the suite's plugin lives in fixtures/plugin.py."""
pytest_plugins = ["fixtures.plugin"]
