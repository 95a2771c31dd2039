# Two commands (see README.md):
#   make serve   set up, build the shipped cases, serve http://127.0.0.1:8001/
#   make test    set up and run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test setup system build check bench clean

serve: $(INSTALLED)
	$(PY) build.py --serve

build: $(INSTALLED)
	$(PY) build.py

check: $(INSTALLED)
	$(PY) build.py --check

test: $(INSTALLED) system
	$(PY) -m pytest

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(INSTALLED)

# What the tests need from Debian: Chromium for the page tests (never a
# browser download), CJK fonts so that screenshots of the Chinese pages are
# readable, nginx for the deployment test, LibreOffice (Writer and Calc) and
# poppler-utils to open the Word and Excel exports in an office suite and
# read the printed PDF back. Installed only when dpkg lists one of them as
# not installed; RUNLEVEL=1 keeps the package from starting a system nginx.
SYSTEM_PACKAGES := chromium fonts-noto-cjk nginx libreoffice-writer libreoffice-calc poppler-utils
system:
	@dpkg-query -W -f='$${Status}\n' $(SYSTEM_PACKAGES) 2>/dev/null | grep -c '^install ok installed$$' | grep -qx $(words $(SYSTEM_PACKAGES)) || \
	  { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $(SUDO) apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; }

bench: $(INSTALLED)
	$(PY) -m bench

clean:
	rm -rf $(VENV) cases.db .pytest_cache
