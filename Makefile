# Two set-up commands: `make demo` and `make test`. Both bootstrap everything they need.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test lint bootstrap chromium clean

bootstrap: $(STAMP) chromium

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Debian/Ubuntu: install the distribution's Chromium and ChromeDriver when missing.
# Elsewhere (macOS, Windows) stepbatch uses an installed Chrome; see README.
chromium:
	@if [ -f /etc/debian_version ] && ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then \
		SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
		echo "installing chromium and chromium-driver (Debian packages)"; \
		$$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; \
	fi

demo: bootstrap
	$(VENV)/bin/stepbatch demo

test: bootstrap
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: bootstrap
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples

clean:
	rm -rf $(VENV) stepbatch-state .pytest_cache
