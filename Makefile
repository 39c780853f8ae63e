# Two commands for a fresh machine:
#   make book   builds the website into _build/html
#   make test   runs the whole test suite (nnlib unit tests + every notebook through nbval)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test bench student serve venv clean

venv: $(STAMP)

# (Re)create the virtual environment when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo ""
	@echo "The website is built. Open file://$(CURDIR)/_build/html/index.html in a browser."

# Two workers, one file per work unit, in collection order: the two TensorFlow chapters start first
# (tests/conftest.py) and the other worker runs everything else meanwhile.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

# Not part of the test suite: nnlib vs scikit-learn vs Keras on MNIST (takes a few minutes).
bench: $(STAMP)
	$(BIN)/python bench/bench_mnist.py

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
