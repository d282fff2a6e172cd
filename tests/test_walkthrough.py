"""The walkthroughs run from top to bottom: the notebook with nbclient, the R Markdown
document with rmarkdown and Debian's pandoc. Each checks its own numbers as it goes (a
failing cell or chunk stops it), so neither can go stale."""

import subprocess

import nbformat
from nbclient import NotebookClient

from cases import ROOT


def test_the_notebook_runs_from_top_to_bottom():
    notebook = nbformat.read(ROOT / "docs" / "walkthrough.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(ROOT)}}).execute()
    out = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "Step 11. The output layer's bias moves" in out
    assert "article: every number of every iteration of all 5000 epochs (415,000 numbers)" in out
    assert "agree: every one within |python - R|" in out
    images = [
        output for cell in notebook.cells for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]  # fmt: skip
    assert len(images) == 2


def test_the_r_markdown_document_renders_from_top_to_bottom(tmp_path):
    render = (
        f'rmarkdown::render("{ROOT / "docs" / "walkthrough.Rmd"}", output_dir = "{tmp_path}", '
        f'intermediates_dir = "{tmp_path}", quiet = TRUE)'
    )
    done = subprocess.run(["Rscript", "-e", render], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "walkthrough.html").read_text(encoding="utf-8")
    assert "Step 11. The output layer&#39;s bias moves" in html
    assert "article: every number of every iteration of all 5000 epochs (415,000 numbers)" in html
    assert "agree: every one within |python - R|" in html
    assert html.count("data:image/png") == 2
    assert 'src="http' not in html  # it opens offline, MathJax left out
