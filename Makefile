# Two set-up commands: `make demo` and `make test`. Both bootstrap everything they need.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: demo test lint bootstrap chromium postgresql clean

bootstrap: $(STAMP) chromium postgresql

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,ocr,cluster]'
	touch $(STAMP)

# Debian/Ubuntu: install the distribution's Chromium and ChromeDriver, and the CJK font the simulator
# draws its product pictures' text with, when missing.
# Elsewhere (macOS, Windows) stepbatch uses an installed Chrome and the system's CJK fonts; see README.
chromium:
	@if [ -f /etc/debian_version ] && ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; }; then \
		SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
		echo "installing chromium, chromium-driver and fonts-noto-cjk (Debian packages)"; \
		$$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-noto-cjk >/dev/null; \
	fi

# Debian/Ubuntu: PostgreSQL for the cluster tests (they start their own throwaway cluster on 127.0.0.1 and
# a free port, as the `postgres` user when run as root, and remove it afterwards). Elsewhere: see README.
postgresql:
	@if [ -f /etc/debian_version ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
		echo "installing postgresql (Debian package)"; \
		$$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; \
	fi

demo: bootstrap
	$(VENV)/bin/stepbatch demo $(DEMO_ARGS)

test: bootstrap
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: bootstrap
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples

clean:
	rm -rf $(VENV) stepbatch-state stepbatch-demo .pytest_cache
