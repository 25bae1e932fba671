# Coordination Studio: two commands on a fresh machine.
#   make run    set up .venv and run the main job on the embedded default study
#               (the desktop application when a display is available, else the headless report)
#   make test   set up .venv with the test extras, the Debian packages the tests need, and run pytest
# Also: make report (always headless), make bench, make lint, make screenshots, make clean.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
OUT    ?= out

# Debian packages Qt needs to start (offscreen or xcb) and that the tests drive for real:
# LibreOffice recalculates the Excel reports, PostgreSQL backs the results-database test, Xvfb takes
# the GUI screenshots.
APT_QT    := libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 fonts-dejavu-core \
             libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0 \
             libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
APT_TEST  := $(APT_QT) xvfb xauth libreoffice-calc-nogui postgresql
SUDO      := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run report test bench lint screenshots docs clean apt-qt apt-test venv venv-test

# Install whichever of the listed Debian packages are missing (nothing to do on a prepared machine).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

apt-qt:
	$(call apt_install,$(APT_QT))

apt-test:
	$(call apt_install,$(APT_TEST))

# constraints.txt: the library versions the tests last passed with, so a fresh machine reproduces them
$(VENV)/.installed: pyproject.toml constraints.txt
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[gui]'
	@touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt $(VENV)/.installed
	$(PIP) install -q -c constraints.txt -e '.[test]'
	@touch $@

venv: $(VENV)/.installed
venv-test: $(VENV)/.installed-test

run: apt-qt venv
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  $(PY) main.py gui; \
	else \
	  echo "no display: running the headless chain (make report)"; \
	  $(MAKE) --no-print-directory report; \
	fi

report: venv
	$(PY) main.py run --out $(OUT)

# Two passes: the suite on TEST_WORKERS processes (pytest-xdist, each test file on one worker, so a file's
# fixtures are built once), then the tests marked `serial` (timing and signal assertions) alone.
TEST_WORKERS ?= 2
test: apt-test venv-test
	QT_QPA_PLATFORM=offscreen MPLBACKEND=Agg $(VENV)/bin/pytest -q --durations=25 -n $(TEST_WORKERS) \
	  --dist loadfile -m "not serial"
	QT_QPA_PLATFORM=offscreen MPLBACKEND=Agg $(VENV)/bin/pytest -q --durations=10 -m serial

bench: venv
	$(PIP) install -q -c constraints.txt -e '.[test,bench,distributed]'
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

lint: venv-test
	$(VENV)/bin/ruff check sgam simulation cba main.py
	$(VENV)/bin/mypy -p coordstudio.sgam -p coordstudio.simulation -p coordstudio.cba

screenshots: apt-test venv
	xvfb-run -a -s "-screen 0 1920x1080x24" $(PY) main.py gui --screenshots docs/screenshots

# the API reference site from the docstrings (mkdocs.yml, docs/api.md) into site/
docs: venv
	$(PIP) install -q -c constraints.txt -e '.[docs]'
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache *.egg-info
