"""The hardening tests' marker: ``fault_injection`` (``kill -9`` loops; deselect them with
``pytest -m "not fault_injection"``; ``make test`` runs them)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "fault_injection: kill -9 loops over real runs (about a minute; deselect with "
        "-m 'not fault_injection')",
    )
