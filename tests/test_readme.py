"""What README.md claims in figures, checked."""

import re

import numpy as np

import nnscratch
from cases import ROOT


def test_the_accuracy_table_is_what_training_gives_in_both_languages(r_session):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- accuracy table: tests/test_readme.py checks it -->")[1]
    table = table.split("<!-- end of the accuracy table -->")[0]
    rows = re.findall(r"^\| (\w+) \|.*\| ([\d.]+) \| ([\d.]+) \|$", table, flags=re.MULTILINE)
    assert [name for name, _, _ in rows] == ["xor", "moons", "blobs", "iris"]
    for name, python_accuracy, r_accuracy in rows:
        path = ROOT / "fixtures" / f"{name}.json"
        f = nnscratch.load_fixture(path)
        expected = f.y.argmax(axis=1) if f.y.shape[1] > 1 else f.y[:, 0]
        python = nnscratch.predict_class(nnscratch.train_fixture(f).layers, f.X)
        r = r_session.predict_class(r_session.train_fixture(f).layers, f.X)
        r = r - 1 if f.y.shape[1] > 1 else r  # R counts classes from 1
        assert f"{np.mean(python == expected):.4f}" == python_accuracy, name
        assert f"{np.mean(r == expected):.4f}" == r_accuracy, name
