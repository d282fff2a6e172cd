# nnscratch: `make demo` and `make test` set everything up on first use.
PYTHON := .venv/bin/python
RSCRIPT := Rscript

.PHONY: all setup demo test test-r test-python test-wheel lint bench docs fixtures clean \
	r-package r-install r-check r-openblas r-reference-blas

all: test

setup:
	@scripts/setup

demo: setup
	@$(PYTHON) -m nnscratch.demo --pictures out

# Both suites at once, one process per core (scripts/test); test-r and test-python run one.
test: setup
	@scripts/test

test-r: setup
	$(RSCRIPT) -e 'testthat::test_dir("tests/r", stop_on_failure = TRUE)'

test-python: setup
	$(PYTHON) -m pytest -n auto --dist worksteal

# tests/test_wheel.py with the wheel's dependencies installed from the package index, as a
# user's pip installs them (make test lends them from .venv instead).
test-wheel: setup
	NNSCRATCH_WHEEL_FROM_INDEX=1 $(PYTHON) -m pytest tests/test_wheel.py

# The R package, built from r/nnscratch.R and DESCRIPTION (scripts/r-package says how).
R_TARBALL := build/r/nnscratch_$(shell sed -n 's/^Version: //p' DESCRIPTION).tar.gz

r-package:
	@scripts/r-package

r-install: r-package
	R CMD INSTALL $(R_TARBALL)

# --no-manual: the PDF manual needs LaTeX; the help pages are checked all the same.
r-check: r-package
	cd build/r && R CMD check --no-manual $(notdir $(R_TARBALL))

lint:
	@scripts/setup --lint
	$(PYTHON) -m ruff check python tests fixtures examples bench
	$(PYTHON) -m ruff format --check python tests fixtures examples bench
	$(RSCRIPT) -e 'lints <- c(lintr::lint_dir("r"), lintr::lint_dir("tests"), lintr::lint_dir("examples"), lintr::lint_dir("bench")); if (length(lints) > 0) { print(lints); quit(status = 1) }; cat("lintr: no lints\n")'

# Speed and memory against the bare loops, scikit-learn and torch: bench/results.md.
bench:
	@scripts/setup --bench
	$(PYTHON) bench/bench.py

# The walkthroughs, run from top to bottom and rendered to HTML in out/docs/.
docs: setup
	$(PYTHON) -m nbconvert --to html --execute docs/walkthrough.ipynb --output-dir out/docs \
		--output walkthrough_python --template-file docs/offline.html.j2
	$(RSCRIPT) -e 'rmarkdown::render("docs/walkthrough.Rmd", output_file = "walkthrough_r.html", output_dir = "out/docs", intermediates_dir = tempdir(), quiet = TRUE)'

# The machine's R on Debian's OpenBLAS, and back (as root; README, "Speed and memory").
r-openblas:
	@scripts/setup --openblas

r-reference-blas:
	@scripts/setup --reference-blas

fixtures: setup
	$(PYTHON) fixtures/make_fixtures.py

clean:
	rm -rf .venv python/*.egg-info .pytest_cache .ruff_cache build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
