import os
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli():
    """The command-line tool built from this workspace (`cargo build` puts it in target/)."""
    for candidate in (os.environ.get("BACKPROP_CLI"), ROOT / "target/release/backprop",
                      ROOT / "target/debug/backprop", shutil.which("backprop")):
        if candidate and pathlib.Path(candidate).is_file():
            return str(candidate)
    pytest.skip("the backprop command-line tool is not built: run `cargo build` first")


def pytest_configure(config):
    # Short fits on purpose: scikit-learn's "not converged" warning says nothing here.
    try:
        import sklearn.exceptions  # noqa: F401
    except ImportError:
        return
    config.addinivalue_line("filterwarnings", "ignore::sklearn.exceptions.ConvergenceWarning")
