# Two commands for a fresh machine:
#   make book   builds the website into _build/html (make pdf: also the book as one PDF)
#   make test   runs the whole test suite (nnlib unit tests, every notebook through nbval, and the
#               numpy chapters a second time under other numerics)
# Both install the locked environment (requirements.lock, exact versions with hashes) into .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# What the environment is installed from: the lock (default), or REQS=requirements.txt for the
# newest versions its ranges allow (the weekly workflow; use another VENV for it).
REQS   ?= requirements.lock
ifeq ($(REQS),requirements.lock)
PIP_INSTALL := --require-hashes -r requirements.lock
else
PIP_INSTALL := --upgrade --upgrade-strategy eager -r $(REQS)
endif
# nbval re-executes every notebook in book/ with the kernel of this environment.
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: book pdf test unit lint format chapter outputs lock bench student serve venv clean

venv: $(STAMP)

# (Re)create the virtual environment when the lock or pyproject.toml change.
$(STAMP): $(REQS) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PIP_INSTALL)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo ""
	@echo "The website is built. Open file://$(CURDIR)/_build/html/index.html in a browser."

# The whole book as one PDF, next to the website: _build/html/neural-networks-from-scratch.pdf
# (the landing page links to it). Jupyter Book's single-page build of every chapter, printed by
# headless Chromium (Debian's chromium, as for the website test) with the site's print style.
pdf: book
	$(BIN)/jupyter-book build . --builder singlehtml --warningiserror --keep-going
	$(BIN)/python _ext/book_pdf.py

# Lint first (seconds), then two workers, one file per work unit, in collection order: the two
# TensorFlow chapters start first (tests/conftest.py) and the other worker runs everything else
# meanwhile, including the portability run (tests/test_portability.py).
test: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest $(NBVAL) -n 2 --dist loadfile --no-loadscope-reorder

# The fast unit tests alone: no notebook, no fresh environment, no browser.
unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" tests

# One chapter through nbval: make chapter NB=book/05_moons.ipynb
chapter: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) -p no:xdist $(NB)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-execute every chapter in place (or NB=book/05_moons.ipynb ...) in the locked environment, record
# the versions and the BLAS kernel in each notebook's metadata, then regenerate the student edition.
outputs: $(STAMP)
	$(BIN)/python tools/make_outputs.py $(NB)
	$(MAKE) student

# Regenerate requirements.lock from requirements.txt (and nnlib's own dependencies).
lock:
	@test -x $(BIN)/uv || { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/uv pip compile --universal --python-version 3.11 --generate-hashes --no-emit-package nnlib \
	    --custom-compile-command "make lock" --quiet requirements.txt -o requirements.lock

# Not part of the test suite: nnlib vs scikit-learn vs Keras on MNIST (takes a few minutes),
# nnlib's numpy convolution against TensorFlow's, chapter 13's grid of experiments (48 runs,
# written to data/experiments/ch13.json, which the chapter reads) and chapter 12's CNN over
# seeds 0, 1, 2 (one after the other, about two minutes each on an idle 2-core machine).
bench: $(STAMP)
	$(BIN)/python bench/bench_mnist.py
	$(BIN)/python bench/bench_conv.py
	$(BIN)/python bench/experiments_ch13.py
	$(BIN)/python bench/cnn_seeds.py

# The student edition: each chapter's Colab setup cell from _config.yml, then exercises/ from book/.
student: $(STAMP)
	$(BIN)/python tools/sync_setup_cells.py
	$(BIN)/python tools/make_student.py

# Serve the built website on localhost (building it first if needed); PORT=8001 to change the port.
PORT ?= 8000
serve:
	@test -f _build/html/index.html || $(MAKE) book
	@echo "Serving the website at http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	@$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build
