"""The course's notebooks (notebooks/): the committed files are what notebooks/build.py writes
(English and Russian with the same cells, outputs stripped), and each one runs top to bottom.
Their cells assert that every quantity recomputed with NumPy equals the library's trace to 1e-6,
and that training reaches the README's accuracy."""

import importlib.util
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def build():
    spec = importlib.util.spec_from_file_location("build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_notebooks_are_what_build_writes():
    written = build().written()
    assert sorted(written) == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    for name, text in written.items():
        assert (NOTEBOOKS / name).read_text(encoding="utf-8") == text, f"run python3 notebooks/build.py ({name})"
        cells = json.loads(text)["cells"]
        assert all(not c.get("outputs") for c in cells), f"{name}: outputs are not stripped"


def test_both_languages_have_the_same_code():
    written = build().written()
    for name in {n.split(".")[0] for n in written}:
        en, ru = (json.loads(written[f"{name}.{lang}.ipynb"])["cells"] for lang in ("en", "ru"))
        assert [c["cell_type"] for c in en] == [c["cell_type"] for c in ru]
        for a, b in zip(en, ru):
            if a["cell_type"] == "code":  # the same code, but the first line of printed words
                assert a["source"][1:] == b["source"][1:] if a["source"][0].startswith("T = ") else a == b


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_the_notebook_runs_top_to_bottom(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    pytest.importorskip("ipykernel")
    if path.name.startswith("sklearn"):
        pytest.importorskip("sklearn")
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
