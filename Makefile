# Two commands for a fresh machine:
#   make book   builds the website into _build/html
#   make test   runs the whole test suite (nnlib unit tests + every notebook through nbval)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test student venv clean

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

test: $(STAMP)
	$(BIN)/python -m pytest

# The student edition: each chapter's Colab setup cell from _config.yml, then exercises/ from book/.
student: $(STAMP)
	$(BIN)/python tools/sync_setup_cells.py
	$(BIN)/python tools/make_student.py

clean:
	rm -rf _build
