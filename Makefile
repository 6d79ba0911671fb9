# Two commands: `make demo` and `make test`. Each builds .venv on first use; later runs reuse it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# torch and torchvision are installed first, as one matching pair: timm needs torchvision, and a torchvision
# built for another torch fails at import ("operator torchvision::nms does not exist"). These two versions
# are the pair the project is tested with. For a CPU-only or another CUDA build, install the pair from
# https://pytorch.org first, then `pip install -e '.[all]'`, or override: make TORCH_PINS="torch==X torchvision==Y".
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1

.PHONY: demo test lint test-slow bench venv clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PINS)
	$(PY) -m pip install -q -e '.[all,test,bench]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m skvision compare --dataset digits --n-jobs -1 --out skvision-report

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: lint
	$(PY) -m pytest -n 2 -q --doctest-modules skvision tests

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)
	$(PY) benchmarks/bench_descriptors.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
