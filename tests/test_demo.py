"""make demo: python -m nnscratch.demo."""

import nnscratch
from cases import ROOT
from nnscratch.demo import main
from reference import article_fixture_loop
from test_cli import png_size


def test_the_demo_trains_both_languages_reports_agreement_and_draws(tmp_path, capsys):
    assert main(["--pictures", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "after 5000 epochs (lr 0.1):" in out
    assert "  sample    target      python           R" in out
    # Sample 1's output in Python and in R, as the article's own loop gives it.
    _, output = article_fixture_loop(nnscratch.load_fixture(ROOT / "fixtures" / "article.json"))
    assert out.count(f"{output[0, 0]:.6f}") == 2
    assert "article: every number of every iteration of all 5000 epochs (415,000 numbers)" in out
    assert "agree: every one within |python - R| <= ulps * eps * scale" in out
    # The pictures, in both languages.
    names = ["article_python.png", "article_r.png", "moons_python.png", "moons_r.png"]
    for name in names:
        assert f"wrote {tmp_path / name}" in out
    assert sorted(path.name for path in tmp_path.iterdir()) == names
    assert png_size(tmp_path / "moons_r.png") == png_size(tmp_path / "moons_python.png")


def test_the_demo_runs_any_fixture(capsys):
    assert main([str(ROOT / "fixtures" / "sgd.json")]) == 0
    out = capsys.readouterr().out
    assert "after 100 epochs (lr 0.2, batches of 1):" in out
    assert "sgd: every number of every iteration of all 100 epochs (44,000 numbers)" in out


def test_the_demo_refuses_a_bad_fixture_in_one_line(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{", encoding="utf-8")
    assert main([str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {path}: is not valid JSON (")
    assert captured.err.count("\n") == 1


def test_the_demo_exits_1_when_the_languages_disagree(capsys, monkeypatch, plant):
    from nnscratch.rbridge import RSession

    class Planted(RSession):
        def __init__(self):
            super().__init__()
            self.replace_function(
                "nn_backward", plant(self.function("nn_backward"), "delta[[l]]", "TRUE", 1e-9)
            )

    monkeypatch.setattr("nnscratch.rbridge.RSession", Planted)
    assert main(["sgd"]) == 1  # a small run: the test above runs the article's
    assert "first divergence: epoch 1, iteration 1, step 9, layer 1, quantity delta," in (
        capsys.readouterr().out
    )
