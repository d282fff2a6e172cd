# nnscratch: `make demo` and `make test` set everything up on first use.
PYTHON := .venv/bin/python
RSCRIPT := Rscript

.PHONY: all setup demo test test-r test-python lint bench r-openblas r-reference-blas fixtures clean

all: test

setup:
	@scripts/setup

demo: setup
	@$(PYTHON) -m nnscratch.demo --pictures out

# R first, pytest last: its summary line closes the output.
test: test-r test-python

test-r: setup
	$(RSCRIPT) -e 'testthat::test_dir("tests/r", stop_on_failure = TRUE)'

test-python: setup
	$(PYTHON) -m pytest

lint:
	@scripts/setup --lint
	$(PYTHON) -m ruff check python tests fixtures bench
	$(PYTHON) -m ruff format --check python tests fixtures bench
	$(RSCRIPT) -e 'lints <- c(lintr::lint_dir("r"), lintr::lint_dir("tests"), lintr::lint_dir("bench")); if (length(lints) > 0) { print(lints); quit(status = 1) }; cat("lintr: no lints\n")'

# Speed and memory against the bare loops, scikit-learn and torch: bench/results.md.
bench:
	@scripts/setup --bench
	$(PYTHON) bench/bench.py

# The machine's R on Debian's OpenBLAS, and back (as root; README, "Speed and memory").
r-openblas:
	@scripts/setup --openblas

r-reference-blas:
	@scripts/setup --reference-blas

fixtures: setup
	$(PYTHON) fixtures/make_fixtures.py

clean:
	rm -rf .venv python/*.egg-info .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
