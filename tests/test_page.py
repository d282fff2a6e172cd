"""The walkthrough page: the same page from both languages, self-contained, and clicked
through in headless Chromium (Debian's), its numbers read back against the trace."""

import dataclasses
import json
import re

import numpy as np
import pytest

import nnscratch
from browser import Browser
from cases import ATOL, ROOT, RTOL
from nnscratch.page import explain_html, page_iterations

ARTICLE = ROOT / "fixtures" / "article.json"

# The sample README documents: every iteration up to 10, then 20, 50, 100, ... and the last.
ARTICLE_SAMPLE = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]


def page_json(path):
    """The data the page holds, parsed."""
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    return json.loads(found.group(1))


def assert_same_data(python, r, where="data"):
    """The same structure and text; numbers within the harness's tolerance."""
    assert type(python) is type(r), where
    if isinstance(python, dict):
        assert list(python) == list(r), where
        for key in python:
            assert_same_data(python[key], r[key], f"{where}.{key}")
    elif isinstance(python, list):
        assert len(python) == len(r), where
        for i, (p, q) in enumerate(zip(python, r)):
            assert_same_data(p, q, f"{where}[{i}]")
    elif isinstance(python, float):
        assert abs(python - r) <= ATOL + RTOL * abs(r), where
    else:
        assert python == r, where


def save_screenshot(png, path):
    """Save the page's screenshot where README shows it, unless the one there already shows
    the same picture: a link's underline drawn a pixel apart from one run to the next is no
    reason to change a committed file."""
    import io

    import matplotlib.image

    if path.exists():
        old, new = (matplotlib.image.imread(io.BytesIO(data)) for data in (path.read_bytes(), png))
        if old.shape == new.shape and (np.abs(old - new).max(axis=2) > 0).mean() < 0.001:
            return
    path.write_bytes(png)


def test_the_page_keeps_the_documented_sample_of_iterations(r_session):
    assert page_iterations(5000) == ARTICLE_SAMPLE
    assert page_iterations(7) == [1, 2, 3, 4, 5, 6, 7]
    assert page_iterations(30) == [*range(1, 11), 20, 30]
    assert page_iterations(20000)[-3:] == [5000, 10000, 20000]
    for total in (5000, 7, 30, 20000):
        assert list(r_session.call("nn_page_iterations", total)) == page_iterations(total)


@pytest.mark.parametrize(
    ("arguments", "field", "problem"),
    [
        ({"epoch": 5001}, "epoch", "must be a whole number, from 1 to 5000; got 5001.0"),
        ({"iterations": [3, 0]}, "iterations", "must be a whole number, from 1 to 5000; got 0.0"),
    ],
)
def test_bad_arguments_name_the_field_in_both_languages(
    r_session, tmp_path, arguments, field, problem
):
    fixture = nnscratch.load_fixture(ARTICLE)
    with pytest.raises(nnscratch.InputError) as raised:
        explain_html(fixture, tmp_path / "page.html", **arguments)
    assert (raised.value.field, raised.value.problem) == (field, problem)
    with pytest.raises(nnscratch.InputError) as raised:
        r_session.call(
            "nn_explain_html",
            r_session.call("nn_load_fixture", str(ARTICLE)),
            str(tmp_path / "page.html"),
            **arguments,
        )
    assert (raised.value.field, raised.value.problem) == (field, problem)
    assert list(tmp_path.iterdir()) == []


def write_pages(r_session, folder, name, epochs=None, epoch=1):
    """The page of a fixture's run, written by each language: (python.html, r.html)."""
    path = ROOT / "fixtures" / f"{name}.json"
    fixture = nnscratch.load_fixture(path)
    r_fixture = r_session.call("nn_load_fixture", str(path))
    if epochs is not None:
        fixture = dataclasses.replace(fixture, epochs=epochs)
        r_fixture.rx2["epochs"] = epochs
    explain_html(fixture, folder / "python.html", epoch=epoch)
    r_session.call("nn_explain_html", r_fixture, str(folder / "r.html"), epoch=epoch)
    return folder / "python.html", folder / "r.html"


@pytest.fixture(scope="module")
def article_pages(r_session, tmp_path_factory):
    return write_pages(r_session, tmp_path_factory.mktemp("article"), "article")


@pytest.mark.parametrize(("name", "epochs"), [("article", None), ("minibatch", 30), ("xor", 50)])
def test_python_and_r_write_the_same_page(r_session, tmp_path, article_pages, name, epochs):
    if name == "article":
        python, r = article_pages
    else:
        python, r = write_pages(r_session, tmp_path, name, epochs, epoch=2)
    assert_same_data(page_json(python), page_json(r))
    outside = [re.sub(r"(?s)(id=\"data\">).*?(</script>)", "", p.read_text()) for p in (python, r)]
    assert outside[0] == outside[1]  # the same template around the data


def test_any_text_stays_inside_the_data_in_both_languages(r_session, tmp_path):
    path = ROOT / "fixtures" / "sgd.json"
    text = 'a "quoted" </script><b>bold</b> \\ back-slashed, naïve — description'
    fixture = dataclasses.replace(nnscratch.load_fixture(path), description=text, epochs=2)
    r_fixture = r_session.call("nn_load_fixture", str(path))
    r_fixture.rx2["description"] = text
    r_fixture.rx2["epochs"] = 2
    explain_html(fixture, tmp_path / "python.html")
    r_session.call("nn_explain_html", r_fixture, str(tmp_path / "r.html"))
    for page in ("python.html", "r.html"):
        assert page_json(tmp_path / page)["description"] == text
        assert (tmp_path / page).read_text(encoding="utf-8").count("</script>") == 2


def test_the_article_page_is_self_contained_and_under_1_mb(article_pages):
    page = article_pages[0]
    assert page.stat().st_size < 1_000_000
    # Only the SVG namespace, a name rather than an address, may look like one.
    text = page.read_text(encoding="utf-8").replace('"http://www.w3.org/2000/svg"', "")
    for reference in ("http:", "https:", "src=", "url(", "@import", "<link", "<img", "<iframe"):
        assert reference not in text, reference
    assert "default-src 'none'" in text  # and the browser refuses any request the page makes
    data = page_json(page)
    assert [it["iteration"] for it in data["iterations"]] == ARTICLE_SAMPLE
    assert len(data["loss"]) == 5000


@pytest.fixture(scope="module")
def browser():
    with Browser() as opened:
        yield opened


def shown(browser):
    """What the page shows now: (title, step, {matrix: (texts, full values)}) of its
    results, the matrices the step computes."""
    return browser.evaluate(
        """[document.getElementById("title").textContent,
            Number(document.querySelector('#steps button[aria-current="step"]').dataset.step),
            Object.fromEntries([...document.querySelectorAll("#entries figure.result")].map(
              (f) => [f.dataset.name, [...f.querySelectorAll("tr")].map(
                (tr) => [...tr.cells].map((td) => [td.textContent, Number(td.title)]))]))]"""
    )


def rounded(x, digits):
    """As the page shows a number: fixed decimals, and no minus sign on a zero."""
    text = f"{x:.{digits}f}"
    return text.lstrip("-") if float(text) == 0 else text


def assert_shows(browser, iteration, step, expected, digits=3):
    """The page shows that iteration (of the run) and step, and each expected matrix:
    every number rounded as shown, and its full value on hover."""
    title, shown_step, matrices = shown(browser)
    assert f"Iteration {iteration} of " in title and shown_step == step, title
    assert set(expected) <= set(matrices), (set(expected), set(matrices))
    for name, matrix in expected.items():
        cells = np.array(matrices[name], dtype=object)
        values = np.array(cells[..., 1], dtype=float)
        assert values.shape == matrix.shape, name
        assert np.all(np.abs(values - matrix) <= ATOL + RTOL * np.abs(matrix)), name
        assert cells[..., 0].tolist() == [[rounded(x, digits) for x in row] for row in matrix]


def test_the_page_in_a_browser(browser, article_pages):
    fixture = nnscratch.load_fixture(ARTICLE)
    trace = nnscratch.train_fixture(dataclasses.replace(fixture, epochs=5), trace=True).trace

    def at(iteration, layer, quantity):
        return trace.layers[layer - 1][quantity][iteration - 1]

    url = article_pages[0].as_uri()
    # A link opens the page at one step of one iteration.
    browser.open(url + "#iteration=3&step=7")
    assert_shows(browser, 3, 7, {"D2": at(3, 2, "delta")})
    # Keys and buttons move through steps and iterations.
    browser.press("ArrowRight")
    assert_shows(browser, 3, 8, {"H1": at(3, 1, "error_at_layer")})
    browser.press("PageDown")
    assert_shows(browser, 4, 8, {"H1": at(4, 1, "error_at_layer")})
    browser.click("#next-step")
    assert_shows(browser, 4, 9, {"D1": at(4, 1, "delta")})
    browser.click('#steps button[data-step="2"]')
    assert_shows(browser, 4, 2, {"Z1": at(4, 1, "layer_input")})
    browser.press("End")
    assert_shows(browser, 4, 11, {"b1": at(4, 1, "bias"), "b2": at(4, 2, "bias")})
    browser.press("ArrowRight")  # past the last step: the next iteration's first
    assert_shows(browser, 5, 0, {"A0 = X": fixture.X[trace.samples[4] - 1]})
    assert browser.evaluate("location.hash") == "#iteration=5&step=0"
    browser.press("ArrowUp")
    browser.click("#next-step")  # step 1: the weights iteration 3 left
    assert_shows(browser, 4, 1, {"W1": at(3, 1, "weights"), "b2": at(3, 2, "bias")})
    # More decimals on request.
    browser.evaluate(
        'document.getElementById("digits").value = "6";'
        'document.getElementById("digits").dispatchEvent(new Event("change"))'
    )
    browser.press("ArrowRight")
    assert_shows(browser, 4, 2, {"Z1": at(4, 1, "layer_input")}, digits=6)
    # An iteration the page does not keep opens the closest it keeps, and says so.
    browser.open(url + "#iteration=25&step=3")
    title, step, _ = shown(browser)
    assert "Iteration 20 of 5000" in title and step == 3
    assert browser.evaluate('document.getElementById("notice").textContent').startswith(
        "Iteration 25 is not on this page"
    )

    # Python's page and R's show the same text.
    for iteration, step in [(1, 0), (3, 7), (20, 4), (200, 11), (5000, 10)]:
        texts = []
        for page in article_pages:
            browser.open(page.as_uri() + f"#iteration={iteration}&step={step}")
            texts.append(browser.evaluate("document.body.innerText"))
        assert texts[0] == texts[1], (iteration, step)
        assert f"Iteration {iteration} of 5000; step {step}." in texts[0]

    # Nothing went wrong, and nothing was asked of any network or other file.
    assert browser.errors == []
    assert set(browser.requests) == {page.as_uri() for page in article_pages}

    # README's picture of the page.
    browser.open(url + "#iteration=1&step=10")
    save_screenshot(browser.screenshot(), ROOT / "out" / "page.png")


BOUNDARY_PIXELS = """(() => {
  const canvas = document.getElementById("boundary");
  const size = canvas.height, data = canvas.getContext("2d").getImageData(0, 0, size, size).data;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 4) colours.add(data.slice(i, i + 3).join(","));
  return [colours.size, data.join(",")];
})()"""


def test_the_boundary_of_two_features_moves_with_training(browser, tmp_path):
    fixture = nnscratch.load_fixture(ROOT / "fixtures" / "moons.json")
    fixture = dataclasses.replace(fixture, epochs=300)
    explain_html(fixture, tmp_path / "moons.html")
    url = (tmp_path / "moons.html").as_uri()
    pictures = []
    for iteration in (1, 3000):
        browser.open(url + f"#iteration={iteration}&step=4")
        assert not browser.evaluate('document.getElementById("boundary-panel").hidden')
        colours, pixels = browser.evaluate(BOUNDARY_PIXELS)
        assert colours > 20  # shades of the output, and the samples
        pictures.append(pixels)
    assert pictures[0] != pictures[1]
    assert browser.errors == []
    # README's picture of the page with a boundary, tall enough to show it.
    browser.resize(1280, 1500)
    browser.open(url + "#iteration=3000&step=4")
    save_screenshot(browser.screenshot(), ROOT / "out" / "page_moons.png")
    browser.resize(1280, 900)
