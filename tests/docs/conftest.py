"""The ``notebooks`` marker: the executed teaching notebooks (deselect: -m "not notebooks")."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "notebooks: runs the teaching notebooks in a Jupyter kernel (a minute or two)"
    )
