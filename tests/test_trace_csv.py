"""Trace CSVs in Python, and against R's."""

import dataclasses

import numpy as np
import pandas as pd

import nnscratch
from cases import ROOT, r_train


def short_run(name, epochs=20):
    f = nnscratch.load_fixture(ROOT / "fixtures" / f"{name}.json")
    return dataclasses.replace(f, epochs=epochs)


def test_the_csv_is_the_long_table_to_the_bit(tmp_path):
    trace = nnscratch.train_fixture(short_run("minibatch"), trace=True).trace
    nnscratch.write_trace_csv(trace, tmp_path / "trace.csv")
    read = pd.read_csv(tmp_path / "trace.csv")
    table = nnscratch.trace_table(trace)
    assert list(read.columns) == list(table.columns)
    for column in table.columns:
        if column == "value":
            assert read[column].to_numpy().tobytes() == table[column].to_numpy().tobytes()
        else:
            assert read[column].tolist() == table[column].tolist()


def test_the_same_run_twice_writes_the_same_bytes(tmp_path):
    for name in ("two_hidden", "sgd"):
        paths = [tmp_path / f"{name}-{n}.csv" for n in (1, 2)]
        for path in paths:
            fixture = short_run(name)
            nnscratch.write_trace_csv(nnscratch.train_fixture(fixture, trace=True).trace, path)
        assert paths[0].read_bytes() == paths[1].read_bytes()


def test_python_and_r_write_the_same_rows(r_session, tmp_path):
    fixture = short_run("minibatch")
    python_file, r_file = tmp_path / "python.csv", tmp_path / "r.csv"
    nnscratch.write_trace_csv(nnscratch.train_fixture(fixture, trace=True).trace, python_file)
    r_trace = r_train(r_session, fixture, trace=True).rx2("trace")
    r_session.call("nn_write_trace_csv", r_trace, str(r_file))
    python_lines = python_file.read_text().splitlines()
    r_lines = r_file.read_text().splitlines()
    assert python_lines[0] == r_lines[0] == "epoch,iteration,step,layer,quantity,row,col,value"
    assert len(python_lines) == len(r_lines)
    python_index = [line.rsplit(",", 1)[0] for line in python_lines[1:]]
    assert python_index == [line.rsplit(",", 1)[0] for line in r_lines[1:]]
    python_values = np.array([float(line.rsplit(",", 1)[1]) for line in python_lines[1:]])
    r_values = np.array([float(line.rsplit(",", 1)[1]) for line in r_lines[1:]])
    np.testing.assert_allclose(python_values, r_values, rtol=1e-12, atol=1e-12)
