# Two commands (see README.md):
#   make serve   set up, build the shipped cases, serve http://127.0.0.1:8001/
#   make test    set up and run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test setup browser build check bench clean

serve: $(INSTALLED)
	$(PY) build.py --serve

build: $(INSTALLED)
	$(PY) build.py

check: $(INSTALLED)
	$(PY) build.py --check

test: $(INSTALLED) browser
	$(PY) -m pytest

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(INSTALLED)

# Browser tests use Debian's Chromium (never a browser download), with CJK
# fonts so that screenshots of the Chinese pages are readable.
browser:
	@[ -x $(CHROMIUM) ] && [ -d /usr/share/fonts/opentype/noto ] || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

bench: $(INSTALLED)
	$(PY) -m bench

clean:
	rm -rf $(VENV) cases.db .pytest_cache
